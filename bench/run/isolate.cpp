// bench/run/isolate.cpp — every measured repetition in a fresh process
// (pyperf's worker model). The parent orchestrates: it orders the
// (case, repetition) pairs (repetition rounds, each a seeded shuffle of the
// cases, when interleaving), and for each forks a worker, a copy of itself
// taken before any benchmark ran in it, so every worker starts from the
// same clean heap (the immortal small ints, nothing else). The worker
// registers its one case with Google Benchmark, runs one repetition
// (pinned, calibrated, leak-checked by the harness as in-process), writes
// the run to a pipe as text and exits. The first repetition of a case
// that succeeds fixes its iteration count; the later ones run exactly that
// many (pyperf's calibration, then fixed loops), so the aggregates compare
// like with like. peak_rss_kib is the worker's own (wait4's ru_maxrss,
// which includes the few MB the parent had at fork), or the peer's own
// process's where it reports that (ocaml). A worker that dies is
// an error row naming the signal or status and its last line on stderr;
// one that overruns --timeout is killed and named so; the run goes on.
// fork, not exec: the same image under qemu-user and the sanitizers, no
// path to find, and the parent holds nothing a worker could inherit but
// parsed options and the machine's topology.
// Threading: the parent is single-threaded (it forks); a worker is a
// whole rcbench process with the harness's threads.
#include "bench/run/shim.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace rcb {

namespace {

using Run = benchmark::BenchmarkReporter::Run;

volatile sig_atomic_t current_worker;     // the worker running now, or 0 (for kill_worker)

// ---- the worker's side ------------------------------------------------------

// One line each; a message's line breaks become spaces.
std::string one_line(std::string s)
{
    std::replace(s.begin(), s.end(), '\n', ' ');
    std::replace(s.begin(), s.end(), '\r', ' ');
    return s;
}

bool write_all(int fd, const std::string &s)
{
    for (size_t off = 0; off < s.size();) {
        ssize_t n = write(fd, s.data() + off, s.size() - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        off += (size_t)n;
    }
    return true;
}

// The worker's display reporter: each run as text on the pipe. Doubles in
// hex (%a), so the parent reads back exactly what was measured.
class PipeReporter : public benchmark::BenchmarkReporter {
  public:
    explicit PipeReporter(int fd) : fd_(fd) {}
    bool ReportContext(const Context &) override { return true; }
    void ReportRuns(const std::vector<Run> &runs) override
    {
        for (const Run &r : runs) {
            if (r.run_type != Run::RT_Iteration)
                continue;
            char buf[160];
            std::string msg;
            std::snprintf(buf, sizeof buf, "iterations %lld\nreal %a\ncpu %a\n", (long long)r.iterations,
                          r.real_accumulated_time, r.cpu_accumulated_time);
            msg += buf;
            msg += "label " + one_line(r.report_label) + "\n";
            if (r.error_occurred)
                msg += "error " + one_line(r.error_message.empty() ? "error" : r.error_message) + "\n";
            for (const auto &kv : r.counters) {
                std::snprintf(buf, sizeof buf, " %d %a\n", (int)kv.second.flags, kv.second.value);
                msg += "counter " + kv.first + buf;
            }
            msg += "end\n";
            ok_ = write_all(fd_, msg);
            reported_ = true;
        }
    }
    bool done() const { return reported_ && ok_; }

  private:
    int fd_;
    bool reported_ = false, ok_ = false;
};

[[noreturn]] void worker_main(const Case &c, const Options &o, int64_t iterations, int out_fd, int err_fd)
{
    // The parent's handlers remove its report temp files: not ours to run.
    for (int sig : terminating_signals())
        std::signal(sig, SIG_DFL);
    if (dup2(err_fd, STDERR_FILENO) < 0)
        _exit(3);
    close(err_fd);
    // Test hook (bench/CMakeLists.txt's rcbench-isolation): the worker of
    // one benchmark crashes or hangs, as a peer library might.
    if (const char *fault = std::getenv("RCBENCH_TEST_WORKER_FAULT")) {
        std::string f = fault;
        if (f == "segv:" + c.name) {
            std::signal(SIGSEGV, SIG_DFL);   // a sanitizer's handler would turn it into exit 1
            std::raise(SIGSEGV);
        }
        if (f == "hang:" + c.name)
            for (;;)
                pause();
        if (f == "exit:" + c.name) {
            std::fprintf(stderr, "rcbench: test: worker gives up\n");
            _exit(1);
        }
        if (f == "oom:" + c.name) {      // as rc_fatal_os does
            std::fprintf(stderr, "rcbench: error: out of memory (test)\n");
            std::fflush(stderr);
            std::quick_exit(3);
        }
    }
    register_case(c, o, iterations);
    PipeReporter rep(out_fd);
    benchmark::RunSpecifiedBenchmarks(&rep);
    // _exit: the parent's exit-time work (its atexit handlers, its buffers)
    // is the parent's.
    _exit(rep.done() ? 0 : 3);
}

// ---- the parent's side ------------------------------------------------------

struct Outcome {
    std::string out, err;                 // what the worker wrote on each pipe
    bool timed_out = false;
    int status = 0;
    struct rusage ru {};
};

double now_s()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

// quick_exit: the CLI's at_quick_exit handler removes the report temps.
[[noreturn]] void os_error(const char *what)
{
    std::fprintf(stderr, "rcbench: %s: %s\n", what, std::strerror(errno));
    std::fflush(stderr);
    std::quick_exit(3);
}

// Forks a worker for one repetition of c and collects what it said.
Outcome run_worker(const Case &c, const Options &o, int64_t iterations)
{
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
        os_error("pipe to a worker");
    std::fflush(stdout);                  // nothing buffered twice
    std::fflush(stderr);
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        os_error("fork a worker");
    if (pid == 0) {
        close(out[0]);
        close(err[0]);
        // A worker outlives no orchestrator (one killed with SIGKILL cannot
        // kill it): it gets SIGKILL when the parent dies.
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(3);
        worker_main(c, o, iterations, out[1], err[1]);
    }
    current_worker = pid;
    close(out[1]);
    close(err[1]);
    Outcome r;
    const double deadline = now_s() + o.timeout_s;
    struct pollfd p[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
    int open_fds = 2;
    while (open_fds > 0) {
        double left = deadline - now_s();
        if (left <= 0) {
            r.timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        int n = poll(p, 2, (int)std::min(left * 1000 + 1, 60000.0));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            os_error("poll on a worker");
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || p[i].revents == 0)
                continue;
            char buf[4096];
            ssize_t got = read(p[i].fd, buf, sizeof buf);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0) {               // EOF (or an error: the worker is gone either way)
                close(p[i].fd);
                p[i].fd = -1;
                open_fds--;
                continue;
            }
            (i == 0 ? r.out : r.err).append(buf, (size_t)got);
            if (i == 1) {                 // the worker's stderr is the user's too
                (void)!write(STDERR_FILENO, buf, (size_t)got);
            }
        }
    }
    for (auto &q : p)
        if (q.fd >= 0)
            close(q.fd);
    while (wait4(pid, &r.status, 0, &r.ru) < 0) {
        if (errno != EINTR)
            os_error("wait for a worker");
    }
    current_worker = 0;
    return r;
}

std::string last_line(const std::string &s)
{
    size_t end = s.find_last_not_of("\n\r ");
    if (end == std::string::npos)
        return "";
    size_t start = s.rfind('\n', end);
    return s.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

// The run a worker reported; false when its message is incomplete.
bool parse_run(const std::string &text, Run &run)
{
    bool ended = false, have_iters = false;
    size_t from = 0;
    while (from < text.size()) {
        size_t nl = text.find('\n', from);
        if (nl == std::string::npos)
            return false;                 // a cut line: the worker died mid-message
        std::string line = text.substr(from, nl - from);
        from = nl + 1;
        size_t sp = line.find(' ');
        std::string key = line.substr(0, sp), val = sp == std::string::npos ? "" : line.substr(sp + 1);
        if (key == "iterations") {
            run.iterations = (benchmark::IterationCount)std::strtoll(val.c_str(), nullptr, 10);
            have_iters = true;
        } else if (key == "real") {
            run.real_accumulated_time = std::strtod(val.c_str(), nullptr);
        } else if (key == "cpu") {
            run.cpu_accumulated_time = std::strtod(val.c_str(), nullptr);
        } else if (key == "label") {
            run.report_label = val;
        } else if (key == "error") {
            run.error_occurred = true;
            run.error_message = val;
        } else if (key == "counter") {
            char name[64];
            int flags;
            char num[64];
            if (std::sscanf(val.c_str(), "%63s %d %63s", name, &flags, num) != 3)
                return false;
            run.counters[name] = benchmark::Counter(std::strtod(num, nullptr), (benchmark::Counter::Flags)flags);
        } else if (key == "end") {
            ended = true;
        } else {
            return false;
        }
    }
    return ended && have_iters;
}

// The run of one repetition, from what the worker said and how it ended.
Run collect(const Options &o, const Case &c, const Outcome &w)
{
    Run run;
    bool complete = parse_run(w.out, run);
    std::string why;
    if (w.timed_out) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "worker killed: over the time limit of %g s (--timeout)", o.timeout_s);
        why = buf;
    } else if (WIFSIGNALED(w.status)) {
        int sig = WTERMSIG(w.status);
        const char *abbrev = sigabbrev_np(sig);
        why = std::string("worker killed by SIG") + (abbrev ? abbrev : std::to_string(sig)) + " (" +
              strsignal(sig) + ")";
    } else if (!WIFEXITED(w.status) || WEXITSTATUS(w.status) != 0 || !complete) {
        why = "worker exited with status " + std::to_string(WIFEXITED(w.status) ? WEXITSTATUS(w.status) : -1) +
              (complete ? "" : " before reporting its run");
    }
    if (!why.empty()) {
        std::string said = last_line(w.err);
        if (!said.empty())
            why += ": " + said;
        Run err;
        err.error_occurred = true;
        err.error_message = one_line(why);
        err.report_label = run.report_label;
        return err;
    }
    // The worker's own peak (KiB on Linux); self-timed peers' work ran in
    // yet another process (their -1 stays: an empty cell), whose own peak
    // a peer may report (ocaml: it stays too).
    auto rss = run.counters.find("peak_rss_kib");
    if (rss != run.counters.end() && rss->second.value >= 0 && !c.strategy->peak_rss_kib)
        rss->second.value = (double)w.ru.ru_maxrss;
    return run;
}

// Google Benchmark's aggregates (mean, median, stddev, cv) over the runs
// of one case that succeeded, computed as its ComputeStats does: over
// each run's accumulated times, rescaled to per-repetition, and over the
// counters as they are.
std::vector<Run> aggregates(const std::vector<Run> &runs)
{
    std::vector<const Run *> ok;
    for (const Run &r : runs)
        if (!r.error_occurred)
            ok.push_back(&r);
    if (ok.size() < 2)
        return {};
    auto mean = [](const std::vector<double> &v) {
        double s = 0;
        for (double x : v)
            s += x;
        return s / (double)v.size();
    };
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        size_t n = v.size();
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    };
    auto stddev = [&](const std::vector<double> &v) {
        double m = mean(v), ss = 0;
        for (double x : v)
            ss += (x - m) * (x - m);
        return std::sqrt(ss / (double)(v.size() - 1));
    };
    auto cv = [&](const std::vector<double> &v) { return mean(v) == 0 ? 0 : stddev(v) / mean(v); };
    struct Stat {
        const char *name;
        benchmark::StatisticUnit unit;
        std::function<double(const std::vector<double> &)> f;
    };
    const Stat stats[] = { { "mean", benchmark::kTime, mean },
                           { "median", benchmark::kTime, median },
                           { "stddev", benchmark::kTime, stddev },
                           { "cv", benchmark::kPercentage, cv } };
    std::vector<double> real, cpu;
    std::map<std::string, std::vector<double>> counters;
    for (const Run *r : ok) {
        real.push_back(r->real_accumulated_time);
        cpu.push_back(r->cpu_accumulated_time);
        for (const auto &kv : r->counters)
            counters[kv.first].push_back(kv.second.value);
    }
    const double rescale = (double)ok.size() / (double)ok[0]->iterations;
    std::vector<Run> out;
    for (const Stat &s : stats) {
        Run a = *ok[0];
        a.run_type = Run::RT_Aggregate;
        a.aggregate_name = s.name;
        a.aggregate_unit = s.unit;
        a.repetition_index = Run::no_repetition_index;
        a.iterations = (benchmark::IterationCount)ok.size();
        a.real_accumulated_time = s.f(real) * (s.unit == benchmark::kTime ? rescale : 1);
        a.cpu_accumulated_time = s.f(cpu) * (s.unit == benchmark::kTime ? rescale : 1);
        for (auto &kv : a.counters)
            if (counters[kv.first].size() == ok.size())
                kv.second.value = s.f(counters[kv.first]);
        out.push_back(a);
    }
    return out;
}

}  // namespace

const std::vector<int> &terminating_signals()
{
    static const std::vector<int> sigs = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGALRM,
                                           SIGUSR1, SIGUSR2, SIGVTALRM, SIGPROF, SIGABRT };
    return sigs;
}

void kill_worker()
{
    if (current_worker > 0)
        kill((pid_t)current_worker, SIGKILL);
}

void run_isolated(const std::vector<Case> &cases, const Options &o, benchmark::BenchmarkReporter &display,
                  bool &worker_os_error)
{
    // The order: rounds of repetitions, each a shuffle of the cases when
    // interleaving (seeded: --seed repeats an order), else case by case.
    std::vector<std::pair<size_t, unsigned>> order;
    std::mt19937_64 rng(o.seed);
    // A case that asks for more repetitions has its extra ones in the
    // later rounds.
    std::vector<unsigned> reps(cases.size());
    unsigned rounds = 0;
    for (size_t i = 0; i < cases.size(); i++)
        rounds = std::max(rounds, reps[i] = case_repetitions(cases[i], o));
    for (unsigned rep = 0; rep < rounds; rep++) {
        std::vector<size_t> idx;
        for (size_t i = 0; i < cases.size(); i++)
            if (rep < reps[i])
                idx.push_back(i);
        if (o.interleave)
            std::shuffle(idx.begin(), idx.end(), rng);
        for (size_t i : idx)
            order.push_back({ i, rep });
    }
    if (!o.interleave)
        std::stable_sort(order.begin(), order.end(),
                         [](const auto &a, const auto &b) { return a.first < b.first; });

    benchmark::BenchmarkReporter::Context ctx;
    size_t width = 10;
    for (const Case &c : cases)
        width = std::max(width, c.name.size() + 12);   // "/real_time", "_median"
    ctx.name_field_width = width;
    display.ReportContext(ctx);

    std::vector<int64_t> iterations(cases.size(), 0);
    std::vector<std::vector<Run>> done(cases.size());
    for (const auto &[ci, rep] : order) {
        const Case &c = cases[ci];
        Outcome w = run_worker(c, o, iterations[ci]);
        if (!w.timed_out && WIFEXITED(w.status) && WEXITSTATUS(w.status) == 3)
            worker_os_error = true;
        Run run = collect(o, c, w);
        if (!run.error_occurred && iterations[ci] == 0)
            iterations[ci] = run.iterations;
        run.run_name.function_name = c.name;
        run.run_name.time_type = c.strategy->self_ns ? "manual_time" : c.threads > 1 ? "real_time" : "";
        run.family_index = (int64_t)ci;
        run.per_family_instance_index = 0;
        run.threads = 1;
        run.repetitions = reps[ci];
        run.repetition_index = rep;
        run.time_unit = benchmark::kNanosecond;
        run.statistics = nullptr;
        display.ReportRuns({ run });
        done[ci].push_back(run);
        if (done[ci].size() == reps[ci]) {
            std::vector<Run> agg = aggregates(done[ci]);
            if (!agg.empty())
                display.ReportRuns(agg);
        }
    }
    display.Finalize();
}

}  // namespace rcb
