(* bench/peers/ocaml/deriv.ml — Koka's test/bench/koka/deriv.kk (after
   Lean's deriv.ml): f = x^x differentiated n times in x, each derivative
   simplified as it is built by add, mul and powr (constants folded, sums
   and products reassociated to the right); after each step the leaves of
   the derivative are counted. The answer is the last count (the n-th
   derivative's), as every rcbench implementation answers. Recursion over the expression (its depth, which the
   simplifications keep small next to its size). *)

type expr =
  | Val of int
  | Var of string
  | Add of expr * expr
  | Mul of expr * expr
  | Pow of expr * expr
  | Ln of expr

(* Koka's pow on ints; a negative exponent never reaches it here (powr
   folds only Val ^ Val, and the base of every Pow is x). *)
let pown a b =
  if b < 0 then failwith "deriv: pown with a negative exponent";
  let rec go acc b = if b = 0 then acc else go (acc * a) (b - 1) in
  go 1 b

let rec add n0 m0 =
  match (n0, m0) with
  | Val n, Val m -> Val (n + m)
  | Val 0, f -> f
  | f, Val 0 -> f
  | f, Val n -> add (Val n) f
  | Val n, Add (Val m, f) -> add (Val (n + m)) f
  | f, Add (Val n, g) -> add (Val n) (add f g)
  | Add (f, g), h -> add f (add g h)
  | f, g -> Add (f, g)

let rec mul n0 m0 =
  match (n0, m0) with
  | Val n, Val m -> Val (n * m)
  | Val 0, _ -> Val 0
  | _, Val 0 -> Val 0
  | Val 1, f -> f
  | f, Val 1 -> f
  | f, Val n -> mul (Val n) f
  | Val n, Mul (Val m, f) -> mul (Val (n * m)) f
  | f, Mul (Val n, g) -> mul (Val n) (mul f g)
  | Mul (f, g), h -> mul f (mul g h)
  | f, g -> Mul (f, g)

let powr m0 n0 =
  match (m0, n0) with
  | Val m, Val n -> Val (pown m n)
  | _, Val 0 -> Val 1
  | f, Val 1 -> f
  | Val 0, _ -> Val 0
  | f, g -> Pow (f, g)

let ln = function Val 1 -> Val 0 | f -> Ln f

let rec d x = function
  | Val _ -> Val 0
  | Var y -> if String.equal x y then Val 1 else Val 0
  | Add (f, g) -> add (d x f) (d x g)
  | Mul (f, g) -> add (mul f (d x g)) (mul g (d x f))
  | Pow (f, g) -> mul (powr f g) (add (mul (mul g (d x f)) (powr f (Val (-1)))) (mul (ln f) (d x g)))
  | Ln f -> mul (d x f) (powr f (Val (-1)))

let rec count = function
  | Val _ | Var _ -> 1
  | Add (f, g) | Mul (f, g) | Pow (f, g) -> count f + count g
  | Ln f -> count f

let run n =
  let x = Var "x" in
  let rec nest i f = if i = n then count f else nest (i + 1) (d "x" f) in
  nest 0 (powr x x)
