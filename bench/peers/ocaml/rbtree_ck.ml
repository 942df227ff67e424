(* bench/peers/ocaml/rbtree_ck.ml — Koka's test/bench/koka/rbtree-ck.kk
   (after Lean's rbmap-checkpoint): keys n down to 1 inserted into a
   red-black tree (Rbtree's functions; value: key mod 10 = 0), and every
   version made after a key divisible by 5 kept in a list, so the versions
   share most of their nodes and all stay alive until the build ends; the
   answer is the fold count of the list's head, the final tree. The build
   is a loop. *)

let run n =
  let freq = 5 in
  let rec make i t acc =
    if i <= 0 then t :: acc
    else
      let t' = Rbtree.insert t i (i mod 10 = 0) in
      make (i - 1) t' (if i mod freq = 0 then t' :: acc else acc)
  in
  match make n Rbtree.Leaf [] with
  | t :: _ -> Rbtree.count_true t
  | [] -> Rbtree.count_true Rbtree.Leaf
