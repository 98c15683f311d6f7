// Command clibench measures the agent command against a scripted Responses
// server (responsestest) on 127.0.0.1:
//
//   - start: process start to the first request the server receives, over
//     several runs, next to the time to start and wait for /bin/true;
//   - turns: the client's time per turn in a task of many turns, each
//     running one sandboxed echo (the time from the server sending a
//     response to the next request arriving);
//   - rss: the peak resident set size of a small coding task (a shell
//     command and two patches).
//
// Run it through scripts/bench-cli.sh, which builds the agent first:
//
//	go run ./cmd/agent/internal/clibench -agent /tmp/agent
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
)

func main() {
	agentBin := flag.String("agent", "", "the agent binary (required)")
	runs := flag.Int("runs", 20, "runs of the start-up measurement")
	turns := flag.Int("turns", 100, "turns of the per-turn measurement")
	sandbox := flag.String("sandbox", "workspace-write", "sandbox mode of the per-turn measurement")
	flag.Parse()
	if *agentBin == "" {
		fmt.Fprintln(os.Stderr, "clibench: -agent is required")
		os.Exit(2)
	}
	tmp, err := os.MkdirTemp("", "clibench-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(tmp)
	b := &bench{agent: *agentBin, tmp: tmp}

	start, floor := b.startup(*runs)
	fmt.Printf("start to first request: median %s, min %s over %d runs (floor: start and wait /bin/true: median %s)\n",
		ms(median(start)), ms(slices.Min(start)), *runs, ms(median(floor)))

	per, total := b.turns(*turns, *sandbox)
	fmt.Printf("client time per turn (one %s echo per turn): median %s, mean %s over %d turns (task %s)\n",
		*sandbox, ms(median(per)), ms(mean(per)), len(per), total.Round(time.Millisecond))
	perFull, _ := b.turns(*turns, "danger-full-access")
	fmt.Printf("  same without the sandbox (danger-full-access): median %s, mean %s\n", ms(median(perFull)), ms(mean(perFull)))

	rss := b.peakRSS()
	fmt.Printf("peak RSS of a coding task (shell + 2 patches): %.1f MB\n", float64(rss)/1024)
}

type bench struct {
	agent, tmp string
	n          int
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "clibench:", err)
	os.Exit(1)
}

// workspace makes a fresh workspace and state directory.
func (b *bench) workspace() (ws, home string) {
	b.n++
	ws = filepath.Join(b.tmp, fmt.Sprintf("ws%d", b.n))
	home = filepath.Join(b.tmp, fmt.Sprintf("home%d", b.n))
	for _, d := range []string{filepath.Join(ws, ".git"), home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			fail(err)
		}
	}
	if err := os.WriteFile(filepath.Join(ws, "main.go"), []byte("package main\n\nfunc main() {\n\tprintln(\"hello\")\n}\n"), 0o644); err != nil {
		fail(err)
	}
	return ws, home
}

func (b *bench) command(s *rt.Server, ws, home string, args ...string) *exec.Cmd {
	all := append([]string{"--base-url", s.URL, "-C", ws}, args...)
	cmd := exec.Command(b.agent, all...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "OPENAI_API_KEY=bench",
		"AGENTLOOP_CONFIG_DIR=" + filepath.Join(home, "config"),
		"AGENTLOOP_STATE_DIR=" + filepath.Join(home, "state"),
	}
	return cmd
}

// startup measures process start to the first request.
func (b *bench) startup(runs int) (start, floor []time.Duration) {
	for range runs {
		var mu sync.Mutex
		var first time.Time
		s := rt.NewServer(rt.Model(func(*responses.Request) rt.Reply {
			mu.Lock()
			if first.IsZero() {
				first = time.Now()
			}
			mu.Unlock()
			return rt.Output(rt.Text("ok"))
		}))
		ws, home := b.workspace()
		cmd := b.command(s, ws, home, "hello")
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			fail(fmt.Errorf("agent: %w", err))
		}
		s.Close()
		mu.Lock()
		start = append(start, first.Sub(t0))
		mu.Unlock()

		t0 = time.Now()
		if err := exec.Command("/bin/true").Run(); err != nil {
			fail(err)
		}
		floor = append(floor, time.Since(t0))
	}
	return start, floor
}

// turns measures the client's time per turn over a task of n turns, each
// running one echo.
func (b *bench) turns(n int, sandbox string) ([]time.Duration, time.Duration) {
	var mu sync.Mutex
	var arrivals []time.Time
	s := rt.NewServer(rt.Model(func(*responses.Request) rt.Reply {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		k := len(arrivals)
		mu.Unlock()
		if k > n {
			return rt.Output(rt.Text("done"))
		}
		return rt.Output(rt.ShellCall(fmt.Sprintf("call_%d", k), "echo turn "+fmt.Sprint(k)))
	}))
	defer s.Close()
	s.DiscardRequests()
	ws, home := b.workspace()
	cmd := b.command(s, ws, home, "--sandbox", sandbox, "--max-turns", fmt.Sprint(n+1), "echo many times")
	t0 := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		fail(fmt.Errorf("agent: %w\n%s", err, out))
	}
	total := time.Since(t0)
	mu.Lock()
	defer mu.Unlock()
	var per []time.Duration
	for i := 1; i < len(arrivals); i++ {
		per = append(per, arrivals[i].Sub(arrivals[i-1]))
	}
	return per, total
}

// peakRSS runs a small coding task and returns the peak RSS in KiB.
func (b *bench) peakRSS() int64 {
	s := rt.NewServer(
		rt.Output(rt.ShellCall("c1", "cat main.go && ls")),
		rt.Output(rt.ApplyPatchCall("c2", "update_file", "main.go", "@@ func main() {\n-\tprintln(\"hello\")\n+\tprintln(\"hello, world\")\n")),
		rt.Output(rt.ApplyPatchCall("c3", "create_file", "README.md", "+# hello\n+\n+Prints a greeting.\n")),
		rt.Output(rt.Text("Changed the greeting and added a README.")),
	)
	defer s.Close()
	ws, home := b.workspace()
	cmd := b.command(s, ws, home, "improve the greeting")
	if out, err := cmd.CombinedOutput(); err != nil {
		fail(fmt.Errorf("agent: %w\n%s", err, out))
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fail(fmt.Errorf("no rusage"))
	}
	return ru.Maxrss
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func mean(ds []time.Duration) time.Duration {
	var t time.Duration
	for _, d := range ds {
		t += d
	}
	return t / time.Duration(len(ds))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
