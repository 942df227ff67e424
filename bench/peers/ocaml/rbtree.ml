(* bench/peers/ocaml/rbtree.ml — Koka's test/bench/koka/rbtree.kk (after
   Lean's rbmap): Okasaki's red-black tree, keys n-1 down to 0 inserted
   into one persistent tree, each with the value (key mod 10 = 0); the
   answer is the number of true values, found by a fold over the tree.
   The insertion recurses down the tree (depth O(log n)); the build is a
   loop. Rbtree_ck below reuses the tree functions. *)

type color = Red | Black

type tree = Leaf | Node of color * tree * int * bool * tree

let is_red = function Node (Red, _, _, _, _) -> true | _ -> false

(* Koka's balance-left: l is the new left child, (k, v, r) its parent's. *)
let balance_left l k v r =
  match l with
  | Leaf -> Leaf
  | Node (_, Node (Red, lx, kx, vx, rx), ky, vy, ry) ->
    Node (Red, Node (Black, lx, kx, vx, rx), ky, vy, Node (Black, ry, k, v, r))
  | Node (_, ly, ky, vy, Node (Red, lx, kx, vx, rx)) ->
    Node (Red, Node (Black, ly, ky, vy, lx), kx, vx, Node (Black, rx, k, v, r))
  | Node (_, lx, kx, vx, rx) -> Node (Black, Node (Red, lx, kx, vx, rx), k, v, r)

(* Koka's balance-right: r is the new right child, (l, k, v) its parent's. *)
let balance_right l k v r =
  match r with
  | Leaf -> Leaf
  | Node (_, Node (Red, lx, kx, vx, rx), ky, vy, ry) ->
    Node (Red, Node (Black, l, k, v, lx), kx, vx, Node (Black, rx, ky, vy, ry))
  | Node (_, lx, kx, vx, Node (Red, ly, ky, vy, ry)) ->
    Node (Red, Node (Black, l, k, v, lx), kx, vx, Node (Black, ly, ky, vy, ry))
  | Node (_, lx, kx, vx, rx) -> Node (Black, l, k, v, Node (Red, lx, kx, vx, rx))

let rec ins t k v =
  match t with
  | Leaf -> Node (Red, Leaf, k, v, Leaf)
  | Node (Red, l, kx, vx, r) ->
    if k < kx then Node (Red, ins l k v, kx, vx, r)
    else if k = kx then Node (Red, l, k, v, r)
    else Node (Red, l, kx, vx, ins r k v)
  | Node (Black, l, kx, vx, r) ->
    if k < kx then
      if is_red l then balance_left (ins l k v) kx vx r else Node (Black, ins l k v, kx, vx, r)
    else if k = kx then Node (Black, l, k, v, r)
    else if is_red r then balance_right l kx vx (ins r k v)
    else Node (Black, l, kx, vx, ins r k v)

let set_black = function Node (_, l, k, v, r) -> Node (Black, l, k, v, r) | t -> t

let insert t k v = if is_red t then set_black (ins t k v) else ins t k v

(* Koka's fold: left subtree, then the node, then the right subtree. *)
let rec fold t acc f =
  match t with
  | Leaf -> acc
  | Node (_, l, k, v, r) -> fold r (f k v (fold l acc f)) f

let count_true t = fold t 0 (fun _ v r -> if v then r + 1 else r)

let run n =
  let rec make i m = if i <= 0 then m else let i1 = i - 1 in make i1 (insert m i1 (i1 mod 10 = 0)) in
  count_true (make n Leaf)
