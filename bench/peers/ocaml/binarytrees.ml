(* bench/peers/ocaml/binarytrees.ml — the benchmarks game's binary-trees,
   as Koka's test/bench/koka/binarytrees.kk runs it on one thread: a
   stretch tree of depth max+1 built and checked, a long-lived tree of
   depth max kept alive over the rest, then for each depth d = 4, 6, .. max
   2^(max - d + 4) trees of depth d built, checked and dropped; max is
   max(6, n). A tree of depth 0 is one node with two empty children, and
   check counts the nodes (2^(d+1) - 1). The answer is the sum of every
   check figure the program prints (stretch, each depth's total, long-lived).
   Recursion only over the trees (depth <= n + 1). *)

type tree = Tip | Node of tree * tree

let rec make d = if d > 0 then Node (make (d - 1), make (d - 1)) else Node (Tip, Tip)

let rec check = function Tip -> 0 | Node (l, r) -> check l + check r + 1

let run n =
  let min_depth = 4 in
  let max_depth = max (min_depth + 2) n in
  let stretch = check (make (max_depth + 1)) in
  let long_lived = make max_depth in
  let total = ref stretch in
  let d = ref min_depth in
  while !d <= max_depth do
    let count = 1 lsl (max_depth - !d + min_depth) in
    let sum = ref 0 in
    for _ = 1 to count do
      sum := !sum + check (make !d)
    done;
    total := !total + !sum;
    d := !d + 2
  done;
  !total + check long_lived
