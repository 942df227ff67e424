(* bench/peers/ocaml/nqueens.ml — Koka's test/bench/koka/nqueens.kk: every
   solution of the n-queens problem as a list of queens, the solutions of
   n rows built from those of n - 1 by consing one queen onto each (so the
   solutions share their tails); the answer is the number of solutions.
   extend and append_safe are loops (tail calls); safe walks one solution
   (length <= n); find_solutions recurses n deep. *)

let rec safe queen diag = function
  | q :: qs -> queen <> q && queen <> q + diag && queen <> q - diag && safe queen (diag + 1) qs
  | [] -> true

let rec append_safe queen xs xss =
  if queen <= 0 then xss
  else if safe queen 1 xs then append_safe (queen - 1) xs ((queen :: xs) :: xss)
  else append_safe (queen - 1) xs xss

let rec extend queen acc = function
  | xs :: rest -> extend queen (append_safe queen xs acc) rest
  | [] -> acc

let rec find_solutions n queen = if queen = 0 then [ [] ] else extend n [] (find_solutions n (queen - 1))

let run n = List.length (find_solutions n n)
