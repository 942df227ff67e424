// bench/cli.cpp — rcbench's command line: the suite's own flags (one
// grammar, --flag=value), the cases they select (workload/strategy/
// allocator/threads:N, in report order), --list, and the run: isolated
// (bench/run/isolate.cpp: every repetition in a fresh worker process, the
// default) or in this process (--no-isolate), then the reports. Every
// other flag goes to Google Benchmark, checked here first where its own
// check would print two lines or none.
// Exit: 0 ok, 1 a benchmark failed (an error row), 2 bad usage (one line,
// no file touched), 3 the OS refused something (memory, a descriptor, a
// write: ours, or a worker's). Reports are staged to temp files and
// renamed together at the end (bench/report/report.h); every catchable
// terminating signal removes the temps first.
// Threading: main thread only.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include <fcntl.h>
#include <regex.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/run/shim.hpp"

extern "C" {
#include "alloc/alloc.h"
#include "bench/report/report.h"
#include "bench/run/census.h"
#include "bench/run/harness.h"
#include "bench/run/machine.h"
}

using namespace rcb;

namespace {

char json_tmp[4096];                      // the JSON's temp file while it is being written, or ""

void remove_tmp()
{
    report_discard();
    json_tmp[0] = '\0';
}

// A terminating signal (SIGINT, SIGTERM, SIGHUP, SIGPIPE from a closed
// pipe, ...), and SIGABRT from a fatal error: no half report and no worker
// left behind (kill and unlink are async-signal-safe). A forked worker
// resets these (isolate.cpp); report_discard is a no-op there anyway.
extern "C" void remove_tmp_and_die(int sig)
{
    kill_worker();
    report_discard();
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

// rc_fatal_os and the new-handler end in quick_exit(3).
extern "C" void remove_tmp_at_quick_exit()
{
    kill_worker();
    report_discard();
}

void out_of_memory()
{
    static const char line[] = "rcbench: error: out of memory\n";
    (void)!write(STDERR_FILENO, line, sizeof line - 1);
    std::quick_exit(3);
}

[[noreturn]] void usage_error(const std::string &flag, const std::string &what)
{
    std::fprintf(stderr, "rcbench: %s: %s (rcbench --help)\n", flag.c_str(), what.c_str());
    std::exit(2);
}

// A report path report_check_path refused: the user's mistake (no such
// directory, no permission, not a file: exit 2) or the OS's (no
// descriptor, no memory, no space: exit 3), as errno says.
[[noreturn]] void path_error(const char *flag, const char *why)
{
    if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOSPC || errno == EDQUOT ||
        errno == EIO) {
        std::fprintf(stderr, "rcbench: %s: %s\n", flag, why);
        std::exit(3);
    }
    usage_error(flag, why);
}

[[noreturn]] void os_error(const char *flag, const char *path)
{
    std::fprintf(stderr, "rcbench: %s: cannot write %s: %s\n", flag, path, std::strerror(errno));
    remove_tmp();
    std::exit(3);
}

// stdout flushed and closed cleanly, or exit status 3 (a full disk, a
// closed pipe: the output is lost, which must not look like success).
int finish_stdout()
{
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
        std::fprintf(stderr, "rcbench: standard output: %s\n", std::strerror(errno ? errno : EIO));
        return 3;
    }
    return 0;
}

std::vector<std::string> split(const std::string &s)
{
    std::vector<std::string> out;
    size_t from = 0;
    for (;;) {
        size_t comma = s.find(',', from);
        std::string item = s.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
        size_t b = item.find_first_not_of(' '), e = item.find_last_not_of(' ');
        out.push_back(b == std::string::npos ? std::string() : item.substr(b, e - b + 1));
        if (comma == std::string::npos)
            return out;
        from = comma + 1;
    }
}

std::string join(const std::vector<std::string> &v)
{
    std::string s;
    for (const auto &x : v)
        s += (s.empty() ? "" : ",") + x;
    return s;
}

bool contains(const std::vector<std::string> &v, const std::string &x)
{
    for (const auto &y : v)
        if (y == x)
            return true;
    return false;
}

// Whether two report paths name one file: the same device and inode when
// it exists, else the same directory (device and inode) and last name.
bool same_file(const std::string &a, const std::string &b)
{
    if (a.empty() || b.empty())
        return false;
    struct stat sa, sb;
    if (stat(a.c_str(), &sa) == 0 && stat(b.c_str(), &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    auto split_path = [](const std::string &p) {
        size_t slash = p.find_last_of('/');
        return slash == std::string::npos ? std::make_pair(std::string("."), p)
                                          : std::make_pair(slash == 0 ? std::string("/") : p.substr(0, slash),
                                                           p.substr(slash + 1));
    };
    auto [da, na] = split_path(a);
    auto [db, nb] = split_path(b);
    if (na != nb)
        return false;
    return stat(da.c_str(), &sa) == 0 && stat(db.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

const char *const kUsage =
    "usage: rcbench [options] [Google Benchmark flags]\n"
    "  --strategies=LIST   @STRATEGIES@, and the peers (what users run\n"
    "                      today): @PEERS@; default all. A peer with an\n"
    "                      allocator of its own runs once whatever --allocators says\n"
    "  --allocators=LIST   @ALLOCATORS@ (what this build has); default all\n"
    "  --workloads=LIST    workload names (gc_pause: every heap size; alloc: every alloc_*\n"
    "                      workload; programs: every program and its variants); default all\n"
    "  --threads=LIST      thread counts, e.g. 1,2; default 1 and one per core\n"
    "  --tree-depth=N      depth of the binary trees (default 14)\n"
    "  --size=SIZE         the programs' size: default (0.05-0.5 s a run) or paper (the\n"
    "                      papers' sizes, seconds a run); --quick takes smoke sizes\n"
    "  --csv=FILE          write the tidy CSV report to FILE (atomically)\n"
    "  --summary=FILE      write the closing summary to FILE too (atomically)\n"
    "  --quick             smoke run: a few short iterations per benchmark, one repetition\n"
    "  --list[=KIND]       print every benchmark name (or KIND: strategies, peers, workloads,\n"
    "                      allocators, columns, census-columns, census-smallint-columns;\n"
    "                      one per line) and exit; --list=machine prints the facts a\n"
    "                      report carries, column=value (arch, cpu_model, compiler, revision)\n"
    "  --census[=FILE]     no timing: every workload (or --workloads) under the census\n"
    "                      flavour, at --threads (default 1,2), one iteration each, on the\n"
    "                      arena; writes FILE (default census.csv) and FILE-smallint.csv\n"
    "                      (docs/census.md; columns: --list=census-columns,\n"
    "                      --list=census-smallint-columns)\n"
    "  --icount            no timing: one iteration of each single-thread benchmark with\n"
    "                      callgrind counting the kernel (tools/rcbench-icount runs it);\n"
    "                      without --workloads, the regression gate's kernels\n"
    "  --no-isolate        run every benchmark in this process (default: each repetition in a\n"
    "                      fresh worker process, forked before any benchmark ran)\n"
    "  --timeout=SECONDS   a worker's time limit per repetition (default 300); over it, the\n"
    "                      worker is killed and the repetition is an error row\n"
    "  --seed=N            the random interleaving's seed (default: from the clock; printed)\n"
    "  --benchmark_format=console  Google Benchmark's full line per repetition, with every\n"
    "                      counter (default: one short line per benchmark: median time per\n"
    "                      op, +- half the range over repetitions, N/M done, time left)\n"
    "  --help              this text\n"
    "Defaults: --benchmark_min_time=0.05 --benchmark_repetitions=3 (9 for gc_pause_*)\n"
    "--benchmark_enable_random_interleaving=true (all overridable).\n"
    "Google Benchmark's own flags all work, e.g. --benchmark_filter=REGEX,\n"
    "--benchmark_repetitions=N, --benchmark_enable_random_interleaving=true,\n"
    "--benchmark_out=FILE --benchmark_out_format=json, --benchmark_min_time=SECONDS.\n";

// kUsage with the lists filled in from the tables.
std::string usage()
{
    std::vector<std::string> ours, peers;
    for (const bench_strategy_t *t : tables())
        (t->peer ? peers : ours).push_back(t->name);
    std::string u = kUsage;
    auto put = [&u](const std::string &key, const std::string &value) { u.replace(u.find(key), key.size(), value); };
    put("@STRATEGIES@", join(ours));
    put("@PEERS@", join(peers));
    put("@ALLOCATORS@", alloc_backend_names());
    return u;
}

// A list flag names each item once (--threads=1,1 would run every
// benchmark twice, with the same key in the reports).
std::vector<std::string> no_repeats(const std::string &flag, const std::vector<std::string> &items)
{
    for (size_t i = 0; i < items.size(); i++)
        for (size_t j = 0; j < i; j++)
            if (items[i] == items[j])
                usage_error(flag, "'" + items[i] + "' given twice");
    return items;
}

// The boolean words Google Benchmark reads as it means them.
bool is_true(const std::string &v) { return v == "true" || v == "1" || v == "yes"; }
bool is_bool(const std::string &v) { return is_true(v) || v == "false" || v == "0" || v == "no"; }

// Our flags out of argv; what is left goes to Google Benchmark.
Options parse(int &argc, char **argv)
{
    Options o;
    std::vector<std::string> all_strategies, all_workloads = workload_names();
    for (const bench_strategy_t *t : tables())
        all_strategies.push_back(t->name);
    std::vector<std::string> all_allocators = split(alloc_backend_names());

    int out = 1;
    std::vector<std::string> timed_only;   // flags that mean nothing without timing
    bool threads_set = false, seed_set = false, reps_set = false, interleave_set = false, min_time_set = false;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i], flag = a, value;
        bool has_value = false;
        size_t eq = a.find('=');
        if (eq != std::string::npos) {
            flag = a.substr(0, eq);
            value = a.substr(eq + 1);
            has_value = true;
        }
        auto need = [&]() {
            if (!has_value) {
                if (i + 1 >= argc)
                    usage_error(flag, "needs a value");
                value = argv[++i];
            }
            if (value.empty())
                usage_error(flag, "needs a value");
            return value;
        };
        if (flag == "--help" || flag == "-h") {
            std::fputs(usage().c_str(), stdout);
            std::exit(finish_stdout());
        } else if (flag == "--quick" && !has_value) {
            o.quick = true;
        } else if (flag == "--list") {
            o.list = has_value ? value : "benchmarks";
            static const char *const kinds[] = { "benchmarks", "strategies", "peers", "workloads", "allocators",
                                                 "columns", "census-columns", "census-smallint-columns",
                                                 "machine" };
            if (std::find(std::begin(kinds), std::end(kinds), o.list) == std::end(kinds))
                usage_error(flag, "'" + o.list + "' is not benchmarks, strategies, peers, workloads, allocators, "
                                                 "columns, census-columns, census-smallint-columns or machine");
        } else if (flag == "--no-isolate" && !has_value) {
            o.isolate = false;
        } else if (flag == "--timeout") {
            std::string v = need();
            char *end = nullptr;
            errno = 0;
            double s = std::strtod(v.c_str(), &end);
            if (*end || errno || !(s > 0) || s > 86400)
                usage_error(flag, "'" + v + "' is not a time limit in seconds (0 to 86400)");
            o.timeout_s = s;
        } else if (flag == "--seed") {
            std::string v = need();
            char *end = nullptr;
            errno = 0;
            unsigned long long s = std::strtoull(v.c_str(), &end, 10);
            if (*end || errno || v[0] == '-')
                usage_error(flag, "'" + v + "' is not a seed (a non-negative integer)");
            o.seed = (unsigned long)s;
            seed_set = true;
        } else if (flag == "--census") {
            if (has_value && value.empty())
                usage_error(flag, "needs a file name after '='");
            o.census = has_value ? value : "census.csv";
        } else if (flag == "--icount" && !has_value) {
            o.icount = true;
        } else if (flag == "--strategies") {
            timed_only.push_back(flag);
            o.strategies = no_repeats(flag, split(need()));
            for (const auto &s : o.strategies)
                if (s == "census" && bench_census_table() != nullptr)
                    usage_error(flag, "census is never timed: rcbench --census runs it");
                else if (!contains(all_strategies, s))
                    usage_error(flag, "unknown strategy '" + s + "' (have: " + join(all_strategies) + ")");
        } else if (flag == "--allocators") {
            o.allocators = no_repeats(flag, split(need()));
            for (const auto &s : o.allocators)
                if (!contains(all_allocators, s))
                    usage_error(flag, "unknown allocator '" + s + "' (this build has: " + join(all_allocators) + ")");
        } else if (flag == "--workloads") {
            o.workloads = no_repeats(flag, split(need()));
            for (const auto &s : o.workloads)
                if (!contains(all_workloads, s) && s != "gc_pause" && s != "alloc" && s != "programs")
                    usage_error(flag, "unknown workload '" + s + "' (have: " + join(all_workloads) + ")");
        } else if (flag == "--threads") {
            threads_set = true;
            o.threads.clear();
            for (const auto &s : split(need())) {
                char *end = nullptr;
                errno = 0;
                unsigned long n = std::strtoul(s.c_str(), &end, 10);
                if (s.empty() || *end || errno || s[0] == '-' || n == 0 || n > 1024)
                    usage_error(flag, "'" + s + "' is not a thread count (1..1024)");
                if (std::find(o.threads.begin(), o.threads.end(), (unsigned)n) != o.threads.end())
                    usage_error(flag, "'" + s + "' given twice");
                o.threads.push_back((unsigned)n);
            }
        } else if (flag == "--tree-depth") {
            std::string v = need();
            char *end = nullptr;
            unsigned long n = std::strtoul(v.c_str(), &end, 10);
            if (*end || v[0] == '-' || n < 1 || n > 24)
                usage_error(flag, "'" + v + "' is not a depth (1..24)");
            o.params.tree_depth = (unsigned)n;
        } else if (flag == "--size") {
            std::string v = need();
            if (v == "default")
                o.params.size = BENCH_SIZE_DEFAULT;
            else if (v == "paper")
                o.params.size = BENCH_SIZE_PAPER;
            else
                usage_error(flag, "'" + v + "' is not a size (default, paper)");
        } else if (flag == "--csv") {
            timed_only.push_back(flag);
            o.csv = need();
        } else if (flag == "--summary") {
            timed_only.push_back(flag);
            o.summary = need();
        } else if (flag == "--benchmark_out") {
            timed_only.push_back(flag);
            o.json = need();             // given to Google Benchmark as a temp file, renamed at the end
        } else {
            // Google Benchmark's value checks print two lines; these are
            // checked here so a bad value is one line and exit 2.
            char *end = nullptr;
            errno = 0;
            if (flag == "--benchmark_repetitions" &&
                (!has_value || value.empty() || std::strtol(value.c_str(), &end, 10) < 1 || *end || errno ||
                 std::strtol(value.c_str(), nullptr, 10) > 1000000))
                usage_error(flag, "'" + value + "' is not a repetition count (1 to 1000000)");
            if (flag == "--benchmark_format") {
                if (value == "csv")       // deprecated in Google Benchmark; ours is better
                    usage_error(flag, "csv: use --csv=FILE, rcbench's own tidy CSV");
                if (value != "json" && value != "console")
                    usage_error(flag, "'" + value + "' is not console or json");
                o.format = value;
            }
            if (flag == "--benchmark_repetitions") {
                o.repetitions = (unsigned)std::strtoul(value.c_str(), nullptr, 10);
                reps_set = true;
            }
            // Google Benchmark takes any word for a boolean (and any text
            // for --v); a typo must not pass for a setting.
            static const char *const bools[] = { "--benchmark_enable_random_interleaving",
                                                 "--benchmark_counters_tabular", "--benchmark_list_tests",
                                                 "--benchmark_report_aggregates_only",
                                                 "--benchmark_display_aggregates_only" };
            if (std::find(std::begin(bools), std::end(bools), flag) != std::end(bools) && has_value &&
                !is_bool(value))
                usage_error(flag, "'" + value + "' is not true or false");
            if (flag == "--benchmark_color" && value != "auto" && !is_bool(value))
                usage_error(flag, "'" + value + "' is not auto, true or false");
            if (flag == "--v" && (!has_value || value.empty() || std::strtol(value.c_str(), &end, 10) < 0 || *end ||
                                  std::strtol(value.c_str(), nullptr, 10) > 1000))
                usage_error(flag, "'" + value + "' is not a verbosity level (0 to 1000)");
            if (flag == "--benchmark_enable_random_interleaving") {
                o.interleave = !has_value || is_true(value);
                interleave_set = true;
            }
            if (flag == "--benchmark_list_tests" && (!has_value || is_true(value))) {
                o.list = "benchmarks";   // the same list, ours
                continue;
            }
            if (flag == "--benchmark_filter") {
                o.filter = value;        // applied to the cases here, not given to Google Benchmark
                continue;
            }
            if (flag == "--benchmark_color")
                o.color = value;
            if (flag == "--benchmark_counters_tabular")
                o.tabular = !has_value || is_true(value);
            // rcbench's CSV needs every repetition's run, which these keep
            // from the reporter.
            if ((flag == "--benchmark_report_aggregates_only" || flag == "--benchmark_display_aggregates_only") &&
                (!has_value || is_true(value)))
                usage_error(flag, "not supported: rcbench reports every repetition (its summary gives medians)");
            if ((flag == "--benchmark_min_time" || flag == "--benchmark_min_warmup_time") &&
                (!has_value || value.empty() || !(std::strtod(value.c_str(), &end) >= 0) || *end ||
                 std::strtod(value.c_str(), nullptr) > 3600))   // (1e400 parses as infinity)
                usage_error(flag, "'" + value + "' is not a time in seconds (0 to 3600)");
            if (flag == "--benchmark_min_time") {
                o.min_time = std::strtod(value.c_str(), nullptr);
                min_time_set = true;
            }
            if (flag == "--benchmark_min_warmup_time")
                o.warmup_set = true;
            if (flag == "--benchmark_time_unit" && value != "ns" && value != "us" && value != "ms" && value != "s")
                usage_error(flag, "'" + value + "' is not ns, us, ms or s");
            if (flag == "--benchmark_out_format" && value != "json" && value != "console" && value != "csv")
                usage_error(flag, "'" + value + "' is not json, console or csv");
            timed_only.push_back(flag);
            argv[out++] = argv[i];       // Google Benchmark's (or unknown: it says so)
        }
    }
    argc = out;
    argv[argc] = nullptr;
    // --quick: one repetition; otherwise 3 in random order (Google
    // Benchmark's flags, which the user's own override).
    o.repetitions_set = reps_set;
    if (!reps_set)
        o.repetitions = o.quick ? 1 : 3;
    if (!interleave_set)
        o.interleave = !o.quick;
    if (!min_time_set)
        o.min_time = o.quick ? 0.002 : 0.05;
    if (!seed_set)
        o.seed = (unsigned long)std::time(nullptr);
    if (o.strategies.empty())
        o.strategies = all_strategies;
    if (o.allocators.empty())
        o.allocators = all_allocators;
    if (o.workloads.empty()) {
        o.workloads = all_workloads;
        o.workloads_default = true;
    }
    if (!o.census.empty()) {
        // The census runs its own flavour, untimed, on the arena.
        if (!timed_only.empty())
            usage_error(timed_only[0], "not with --census (it is never timed; it writes its own files)");
        if (o.icount)
            usage_error("--icount", "not with --census");
        if (o.allocators != std::vector<std::string>{"arena"} && o.allocators != all_allocators)
            usage_error("--allocators", "the census runs on the arena only");
        if (!threads_set)
            o.threads = {1, 2};
        if (bench_census_table() == nullptr)
            usage_error("--census", "this build has no census flavour (rc_add_strategy(census))");
        size_t dot = o.census.size() >= 4 ? o.census.size() - 4 : std::string::npos;
        o.census_smallint = (dot != std::string::npos && o.census.compare(dot, 4, ".csv") == 0
                                 ? o.census.substr(0, dot) : o.census) + "-smallint.csv";
        char cerr[512];
        if (same_file(o.census, o.census_smallint))
            usage_error("--census", "'" + o.census + "' is also its small-int file");
        if (!report_check_path(o.census.c_str(), cerr, sizeof cerr))
            path_error("--census", cerr);
        if (!report_check_path(o.census_smallint.c_str(), cerr, sizeof cerr))
            path_error("--census", cerr);
    }
    if (!threads_set && o.census.empty()) {
        unsigned cores = harness_cores() ? harness_cores() : 1;   // one thread per core
        o.threads.push_back(1);
        if (cores > 1)
            o.threads.push_back(cores);
    }
    o.params.quick = o.quick;
    char err[512];
    if (!o.csv.empty() && same_file(o.csv, o.json))
        usage_error("--csv", "'" + o.csv + "' is also --benchmark_out's file");
    if (!o.csv.empty() && !report_check_path(o.csv.c_str(), err, sizeof err))
        path_error("--csv", err);
    if (!o.summary.empty() && (same_file(o.summary, o.csv) || same_file(o.summary, o.json)))
        usage_error("--summary", "'" + o.summary + "' is also another report's file");
    if (!o.summary.empty() && !report_check_path(o.summary.c_str(), err, sizeof err))
        path_error("--summary", err);
    if (!o.json.empty() && !report_check_path(o.json.c_str(), err, sizeof err))
        path_error("--benchmark_out", err);
    return o;
}

bool wanted(const Options &o, const std::string &workload)
{
    if (contains(o.workloads, workload))
        return true;
    return (workload.rfind("gc_pause_", 0) == 0 && contains(o.workloads, "gc_pause")) ||
           (workload.rfind("alloc_", 0) == 0 && contains(o.workloads, "alloc")) ||
           (bench_is_program(workload.c_str()) && contains(o.workloads, "programs"));
}

// The cases the flags select, in report order.
std::vector<Case> select_cases(const Options &o)
{
    // Workloads in the order the tables first name them (rcbench's, then
    // the peers' own), each at every thread count, on every allocator,
    // under every strategy that has it; a peer with its own allocator once
    // per thread count, and `empty` (no allocation) on allocator "none".
    std::vector<Case> cases;
    // A peer that cannot run here (its program was not built) is left
    // out, with one line saying why, when the flags would have run it.
    std::vector<const bench_strategy_t *> all;
    for (const bench_strategy_t *s : tables()) {
        const char *why = s->unavailable ? s->unavailable() : nullptr;
        if (why == nullptr) {
            all.push_back(s);
            continue;
        }
        bool would_run = false;
        for (unsigned i = 0, n = bench_workload_count(s); i < n; i++)
            would_run |= wanted(o, bench_workload_at(s, i)->name);
        if (would_run && contains(o.strategies, s->name))
            std::fprintf(stderr, "rcbench: peer %s left out: %s\n", s->name, why);
    }
    for (const std::string &wname : workload_names()) {
        if (!wanted(o, wname))
            continue;
        for (unsigned t : o.threads) {
            bool alloc_free = wname == "empty";
            const std::vector<std::string> allocs = alloc_free ? std::vector<std::string>{"none"} : o.allocators;
            for (size_t ai = 0; ai < allocs.size(); ai++) {
                for (const bench_strategy_t *s : all) {
                    const bench_workload_t *w = bench_workload_find(s, wname.c_str());
                    if (w == nullptr || !contains(o.strategies, s->name) || !bench_threads_fit(w, t))
                        continue;
                    if (o.icount && o.workloads_default && !w->gate)   // the gate's kernels
                        continue;
                    if (s->own_allocator && ai != 0)
                        continue;
                    std::string a = s->own_allocator ? s->own_allocator : allocs[ai];
                    cases.push_back({wname + "/" + s->name + "/" + a + "/threads:" + std::to_string(t), a, s, w, t});
                }
            }
        }
    }
    // --benchmark_filter as Google Benchmark reads it (an extended POSIX
    // regex; a leading '-' negates), applied here too so --list honours it
    // and a filter that matches nothing is one line and exit 2.
    if (!o.filter.empty() && o.filter != "all") {
        bool negate = o.filter[0] == '-';
        regex_t re;
        if (regcomp(&re, o.filter.c_str() + negate, REG_EXTENDED | REG_NOSUB) != 0)
            usage_error("--benchmark_filter", "'" + o.filter + "' is not a regular expression");
        std::vector<Case> kept;
        for (const Case &c : cases)
            if ((regexec(&re, c.name.c_str(), 0, nullptr, 0) == 0) != negate)
                kept.push_back(c);
        regfree(&re);
        if (kept.empty())
            usage_error("--benchmark_filter", "'" + o.filter + "' matches no benchmark");
        cases = kept;
    }
    return cases;
}

// --list=KIND: one name per line, for tools/ and tests/.
int print_list(const Options &o, const std::vector<Case> &cases)
{
    std::vector<std::string> out;
    if (o.list == "benchmarks") {
        for (const Case &c : cases)
            out.push_back(c.name);
    } else if (o.list == "strategies" || o.list == "peers") {
        for (const bench_strategy_t *t : tables())
            if (t->peer == (o.list == "peers"))
                out.push_back(t->name);
    } else if (o.list == "workloads") {
        out = workload_names();
    } else if (o.list == "allocators") {
        out = split(alloc_backend_names());
    } else if (o.list == "columns") {
        out = split(report_columns());
    } else if (o.list == "census-columns") {
        out = split(report_census_columns());
    } else if (o.list == "census-smallint-columns") {
        out = split(report_census_smallint_columns());
    } else if (o.list == "machine") {
        // The CSV's columns of the same names (tools/rcbench-history adds
        // the gate's counts with them).
        out = { std::string("arch=") + machine_arch(), std::string("cpu_model=") + machine_cpu_model(),
                std::string("compiler=") + machine_compiler(), std::string("revision=") + machine_revision() };
    }
    for (const std::string &s : out)
        if (std::printf("%s\n", s.c_str()) < 0)
            break;
    return finish_stdout();
}

// Why workload w cannot run on t threads (bench_threads_fit said no).
std::string threads_refused(const bench_workload_t *w, unsigned t)
{
    char why[160];
    if (t < w->min_threads)
        std::snprintf(why, sizeof why, "refuses %u thread(s): needs at least %u", t, w->min_threads);
    else if (w->thread_step && t % w->thread_step)
        std::snprintf(why, sizeof why, "refuses %u thread(s): needs a multiple of %u", t, w->thread_step);
    else
        std::snprintf(why, sizeof why, "refuses %u thread(s): runs on at most %u", t, w->max_threads);
    return why;
}

// rcbench --census: every selected workload at every thread count under
// the census flavour, in this process, one after another (bench/run/
// census.c), then census.csv and census-smallint.csv staged and renamed
// together. A workload the census cannot run (a peer's only, a thread
// count it refuses) is a skipped row with the reason; a run that fails is
// an error row (exit 1).
int run_census(const Options &o)
{
    const bench_strategy_t *cs = bench_census_table();
    for (int sig : terminating_signals())
        std::signal(sig, remove_tmp_and_die);
    std::signal(SIGXFSZ, SIG_IGN);
    std::at_quick_exit(remove_tmp_at_quick_exit);
    std::printf("rcbench --census %s on %s, untimed, one iteration per run%s, arena\n", machine_revision(),
                machine_arch(), o.quick ? " (--quick sizes)" : "");
    std::printf("%-20s %7s %10s %12s %8s %8s %8s %8s\n", "workload", "threads", "objects", "rc_ops", "private%",
                "on_priv%", "immortal%", "bits<=3%");
    for (const std::string &wname : workload_names()) {
        if (!wanted(o, wname))
            continue;
        for (unsigned t : o.threads) {
            report_census_row_t row;
            std::memset(&row, 0, sizeof row);
            std::snprintf(row.workload, sizeof row.workload, "%s", wname.c_str());
            row.threads = t;
            const bench_workload_t *w = bench_workload_find(cs, wname.c_str());
            if (w == nullptr) {
                std::string peers;
                for (const bench_strategy_t *p : tables())
                    if (p->peer && bench_workload_find(p, wname.c_str()))
                        peers += (peers.empty() ? "" : ", ") + std::string(p->name);
                row.skipped = true;
                std::snprintf(row.reason, sizeof row.reason, "no rcbench objects: a peer's workload only (%s)",
                              peers.c_str());
            } else if (!bench_threads_fit(w, t)) {
                row.skipped = true;
                std::snprintf(row.reason, sizeof row.reason, "%s", threads_refused(w, t).c_str());
            } else {
                census_run(cs, w, t, &o.params, &row);
            }
            report_census_add(&row);
            if (row.reason[0]) {
                std::printf("%-20s %7u %s: %s\n", row.workload, t, row.skipped ? "skipped" : "ERROR", row.reason);
            } else {
                uint64_t ops = row.immortal_ops + row.owner_ops + row.other_ops, fit3 = 0;
                for (int k = 0; k < 3; k++)
                    fit3 += row.bits[k];
                auto share = [](uint64_t a, uint64_t b) { return b ? 100.0 * (double)a / (double)b : NAN; };
                std::printf("%-20s %7u %10llu %12llu %8.2f %8.2f %8.2f %8.2f\n", row.workload, t,
                            (unsigned long long)row.objects, (unsigned long long)ops,
                            share(row.private_objects, row.objects), share(row.private_ops, ops),
                            share(row.immortal_ops, ops), share(fit3, row.objects));
            }
            std::fflush(stdout);
        }
    }
    char err[512];
    if (!report_stage_census(o.census.c_str(), o.census_smallint.c_str(), err, sizeof err)) {
        std::fprintf(stderr, "rcbench: --census: %s\n", err);
        remove_tmp();
        return 3;
    }
    if (!report_commit(err, sizeof err)) {
        std::fprintf(stderr, "rcbench: %s\n", err);
        return 3;
    }
    std::printf("\nrcbench: census: %s, %s\n", o.census.c_str(), o.census_smallint.c_str());
    int status = finish_stdout();
    if (status != 0)
        return status;
    return report_census_errors() ? 1 : 0;
}

}  // namespace

int main(int argc, char **argv)
{
    std::set_new_handler(out_of_memory);
    Options o = parse(argc, argv);
    if (!o.census.empty() && o.list.empty())
        return run_census(o);
    std::vector<Case> cases = select_cases(o);
    std::vector<const char *> order;
    for (const Case &c : cases)
        order.push_back(c.name.c_str());
    report_set_order(order.data(), (unsigned)order.size());
    if (!o.list.empty())
        return print_list(o, cases);
    if (cases.empty())
        usage_error("--workloads", "no benchmark matches these flags");
    if (o.icount)
        return icount(cases, o);

    // The defaults come first: the user's own flags, later on the command
    // line, win. --quick: a few short iterations (the chunks are 64 times
    // smaller). Otherwise 3 repetitions in random order, so every strategy
    // meets the machine's good and bad moments alike (in-process, Google
    // Benchmark orders them; isolated, the orchestrator, from o).
    std::vector<char *> args;
    args.push_back(argv[0]);
    static char min_time[] = "--benchmark_min_time=0.05", min_time_quick[] = "--benchmark_min_time=0.002";
    static char reps[] = "--benchmark_repetitions=3", shuffle[] = "--benchmark_enable_random_interleaving=true";
    args.push_back(o.quick ? min_time_quick : min_time);
    if (!o.quick) {
        args.push_back(reps);
        args.push_back(shuffle);
    }
    // A fresh process (an isolated worker, or this one before its first
    // benchmark) faults its heap in on first touch: each benchmark warms
    // up, untimed, as long as it then measures (as a pyperf worker runs a
    // warm-up value first); in-process, Google Benchmark warms up before a
    // benchmark's first repetition only. Measured: tree at depth 20 on
    // glibc, 274-295 ns a node cold, 58-59 warm. Google Benchmark 1.7
    // honours the flag, not Benchmark::MinWarmUpTime.
    std::string warmup_flag;
    if (!o.warmup_set) {
        char v[64];
        std::snprintf(v, sizeof v, "--benchmark_min_warmup_time=%g", o.min_time);
        warmup_flag = v;
        args.push_back(&warmup_flag[0]);
    }
    for (int i = 1; i < argc; i++)
        args.push_back(argv[i]);
    for (int sig : terminating_signals())
        std::signal(sig, remove_tmp_and_die);
    std::signal(SIGXFSZ, SIG_IGN);       // a file size limit: the write fails (EFBIG), we say so
    std::at_quick_exit(remove_tmp_at_quick_exit);
    // The JSON goes to a temp file of our own next to the user's (mkstemp),
    // written by our reporter (in-process too: Google Benchmark would not
    // check its writes), staged and renamed with the other reports.
    if (!o.json.empty()) {
        std::snprintf(json_tmp, sizeof json_tmp, "%s.XXXXXX", o.json.c_str());
        int fd = mkstemp(json_tmp);
        if (fd < 0)
            usage_error("--benchmark_out", "cannot write next to " + o.json + ": " + std::strerror(errno));
        if (!report_stage_tmp(json_tmp, o.json.c_str())) {
            close(fd);
            unlink(json_tmp);
            usage_error("--benchmark_out", "path too long: " + o.json);
        }
        (void)fchmod(fd, 0644);          // mkstemp's 0600 is not a report's mode
        close(fd);
    }
    args.push_back(nullptr);
    int gargc = (int)args.size() - 1;
    benchmark::Initialize(&gargc, args.data());
    if (benchmark::ReportUnrecognizedArguments(gargc, args.data())) {
        remove_tmp();
        return 2;
    }

    std::printf("rcbench %s on %s (%s), %u PU(s) for pinning, %s, atomics %s\n", machine_revision(),
                machine_arch(), machine_cpu_model(), harness_pus(), machine_compiler(), machine_atomics());
    if (o.isolate) {
        size_t workers = 0;
        for (const Case &c : cases)
            workers += case_repetitions(c, o);
        std::printf("rcbench: %zu benchmarks, %zu repetitions (%u each, more where a workload asks), "
                    "each in a fresh worker process%s (--seed=%lu)\n",
                    cases.size(), workers, o.repetitions, o.interleave ? ", in random order" : "", o.seed);
    }
    std::fflush(stdout);
    size_t total_reps = 0;
    for (const Case &c : cases)
        total_reps += case_repetitions(c, o);
    Reporter reporter(o, cases.size(), total_reps);
    std::ofstream json_out;
    if (!o.json.empty()) {
        json_out.open(json_tmp, std::ios::out | std::ios::trunc);
        if (!json_out)
            os_error("--benchmark_out", json_tmp);
    }
    bool worker_os_error = false;
    Tee tee(reporter, o.json.empty() ? nullptr : &json_out);
    if (o.isolate) {
        run_isolated(cases, o, tee, worker_os_error);
    } else {
        for (const Case &c : cases)
            register_case(c, o, -1);
        benchmark::RunSpecifiedBenchmarks(&tee);
    }
    if (!o.json.empty()) {
        json_out.flush();
        json_out.close();
        if (json_out.fail())
            os_error("--benchmark_out", o.json.c_str());
        // The stream says nothing of a write the disk refused at close
        // beyond fail(); fsync makes sure the bytes are on it.
        int fd = open(json_tmp, O_RDONLY);
        if (fd < 0 || fsync(fd) != 0)
            os_error("--benchmark_out", o.json.c_str());
        close(fd);
    }
    benchmark::Shutdown();
    report_summary(stdout);
    char err[512];
    if (!o.csv.empty() && !report_stage_csv(o.csv.c_str(), err, sizeof err)) {
        std::fprintf(stderr, "rcbench: --csv: %s\n", err);
        remove_tmp();
        return 3;
    }
    if (!o.summary.empty() && !report_stage_summary(o.summary.c_str(), err, sizeof err)) {
        std::fprintf(stderr, "rcbench: --summary: %s\n", err);
        remove_tmp();
        return 3;
    }
    if (!report_commit(err, sizeof err)) {
        std::fprintf(stderr, "rcbench: %s\n", err);
        return 3;
    }
    json_tmp[0] = '\0';
    if (!o.csv.empty())
        std::printf("\nrcbench: CSV report: %s\n", o.csv.c_str());
    int status = finish_stdout();
    if (status != 0)
        return status;
    if (worker_os_error)                 // its own line is on stderr, its error row in the reports
        return 3;
    return report_errors() ? 1 : 0;
}
