(* bench/peers/ocaml/main.ml — rcbench-ocaml, the ocaml peer's one native
   program (bench/peers/ocaml.c drives it over a pipe). It says
   "rcbench-ocaml OCAML_VERSION" once, then for each line
   "PROGRAM SIZE RUNS" on stdin runs PROGRAM at SIZE RUNS times, each
   timed alone on the monotonic clock (clock.c), and answers one line:
   the runs' total ns, then each run's answer. Every run starts on the heap
   the last one left (its garbage included): the collector's work is paid
   in the runs that cause it, as in a program that runs for a while, not
   swept away between timings. Bad input or a stack overflow: one line on
   stderr, exit 2 or 3. Single-threaded (OCaml 4.13 has no domains). *)

external now_ns : unit -> int = "rcbench_ocaml_now_ns" [@@noalloc]

let programs =
  [ ("binarytrees", Binarytrees.run);
    ("rbtree", Rbtree.run);
    ("rbtree_ck", Rbtree_ck.run);
    ("deriv", Deriv.run);
    ("nqueens", Nqueens.run);
    ("cfold", Cfold.run) ]

let fail code fmt = Printf.ksprintf (fun s -> prerr_endline ("rcbench-ocaml: " ^ s); exit code) fmt

let serve line =
  match String.split_on_char ' ' (String.trim line) with
  | [ name; size; runs ] -> (
    match (List.assoc_opt name programs, int_of_string_opt size, int_of_string_opt runs) with
    | Some program, Some size, Some runs when size >= 0 && runs >= 1 ->
      let answers = Array.make runs 0 and total = ref 0 in
      for i = 0 to runs - 1 do
        let t0 = now_ns () in
        let a = try program size with Stack_overflow -> fail 3 "stack overflow in %s at size %d" name size in
        total := !total + (now_ns () - t0);
        answers.(i) <- a
      done;
      print_int !total;
      Array.iter (fun a -> print_char ' '; print_int a) answers;
      print_newline ()
    | _ -> fail 2 "bad request '%s' (PROGRAM SIZE RUNS; programs: %s)" line
             (String.concat ", " (List.map fst programs)))
  | _ -> fail 2 "bad request '%s' (PROGRAM SIZE RUNS)" line

let () =
  print_endline ("rcbench-ocaml " ^ Sys.ocaml_version);
  try
    while true do
      serve (input_line stdin)
    done
  with End_of_file -> exit 0
