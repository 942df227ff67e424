(* bench/peers/ocaml/cfold.ml — Koka's test/bench/koka/cfold.kk (after
   Lean's const_fold.hs): a balanced sum of depth n over constants and one
   variable per zero (mk_expr n 1), evaluated; then reassociated into a
   right-leaning chain (append_add walks the left operand's chain), its
   constants folded, and evaluated again. The answer is the folded value
   when the two agree (-1 when they do not: a wrong answer).
   append_add, cfold and eval recurse along the chain, 2^n deep at the
   end, as Koka's and the paper's OCaml do: rcbench-ocaml runs with the
   stack limit raised (bench/peers/ocaml.c). *)

type expr = Var of int | Val of int | Add of expr * expr | Mul of expr * expr

let rec mk_expr n v =
  if n = 0 then if v = 0 then Var 1 else Val v else Add (mk_expr (n - 1) (v + 1), mk_expr (n - 1) (max (v - 1) 0))

let rec append_add e0 e3 = match e0 with Add (e1, e2) -> Add (e1, append_add e2 e3) | _ -> Add (e0, e3)

let rec append_mul e0 e3 = match e0 with Mul (e1, e2) -> Mul (e1, append_mul e2 e3) | _ -> Mul (e0, e3)

let rec reassoc = function
  | Add (e1, e2) -> append_add (reassoc e1) (reassoc e2)
  | Mul (e1, e2) -> append_mul (reassoc e1) (reassoc e2)
  | e -> e

let rec cfold = function
  | Add (e1, e2) -> (
    let e1' = cfold e1 in
    let e2' = cfold e2 in
    match (e1', e2') with
    | Val a, Val b -> Val (a + b)
    | Val a, Add (f, Val b) -> Add (Val (a + b), f)
    | Val a, Add (Val b, f) -> Add (Val (a + b), f)
    | _ -> Add (e1', e2'))
  | Mul (e1, e2) -> (
    let e1' = cfold e1 in
    let e2' = cfold e2 in
    match (e1', e2') with
    | Val a, Val b -> Val (a * b)
    | Val a, Mul (f, Val b) -> Mul (Val (a * b), f)
    | Val a, Mul (Val b, f) -> Mul (Val (a * b), f)
    | _ -> Mul (e1', e2'))
  | e -> e

let rec eval = function Var _ -> 0 | Val v -> v | Add (l, r) -> eval l + eval r | Mul (l, r) -> eval l * eval r

let run n =
  let e = mk_expr n 1 in
  let v1 = eval e in
  let v2 = eval (cfold (reassoc e)) in
  if v1 = v2 then v2 else -1
