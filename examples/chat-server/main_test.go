package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	rt "github.com/agentloop/agentloop/responses/responsestest"
)

// replicaEnv makes the test binary a server replica, with the arguments in
// the variable (tab-separated).
const replicaEnv = "CHAT_SERVER_TEST_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(replicaEnv); args != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		defer stop()
		if err := run(ctx, strings.Split(args, "\t"), os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "chat-server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// replica starts a server process on db and returns its URL; it is
// stopped (SIGTERM, then waited for) at the end of the test.
func replica(t *testing.T, db, modelURL, name string) *url.URL {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), replicaEnv+"="+strings.Join([]string{"-db", db, "-model-url", modelURL, "-name", name}, "\t"))
	stderr, err := os.Create(filepath.Join(t.TempDir(), name+".stderr"))
	require.NoError(t, err)
	defer stderr.Close()
	cmd.Stderr = stderr
	logs := func() string { b, _ := os.ReadFile(stderr.Name()); return string(b) }
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("replica %s stderr:\n%s", name, logs())
		}
	})
	sc := bufio.NewScanner(out)
	require.True(t, sc.Scan(), "replica %s did not start: %s", name, logs())
	addr, ok := strings.CutPrefix(sc.Text(), "listening on ")
	require.True(t, ok, sc.Text())
	go io.Copy(io.Discard, out)
	u, err := url.Parse(addr)
	require.NoError(t, err)
	return u
}

// cluster starts the scripted model, two replicas "A" and "B" on one
// SQLite file, and a balancer in front of them that sends the decisions
// to B and everything else to A: the run that stopped in A resumes in B.
func cluster(t *testing.T) string {
	model := rt.New(t, Script())
	db := filepath.Join(t.TempDir(), "chat.db")
	a := replica(t, db, model.URL, "A")
	b := replica(t, db, model.URL, "B")
	pa, pb := httputil.NewSingleHostReverseProxy(a), httputil.NewSingleHostReverseProxy(b)
	pb.FlushInterval, pa.FlushInterval = -1, -1
	lb := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The body is read before proxying: streamed through, a replica's
		// early answer now and then came back cut (the proxy's read from
		// the replica failed with "use of closed network connection").
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		if r.URL.Path == "/decide" {
			pb.ServeHTTP(w, r)
			return
		}
		pa.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: lb}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// post sends body and returns the JSON lines of the answer.
func post(t *testing.T, c *http.Client, u string, body any) (code int, lines []line) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := c.Post(u, "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		defer func() { require.NotEmpty(t, lines, "an empty answer from %s", u) }()
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var l line
		if json.Unmarshal(sc.Bytes(), &l) == nil {
			lines = append(lines, l)
		}
	}
	return resp.StatusCode, lines
}

// The approval flow over HTTP, without a browser: the run stops in A, the
// decision resumes it in B, and a second decision is refused.
func TestApprovalAcrossReplicas(t *testing.T) {
	base := cluster(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.Get(base + "/")
	require.NoError(t, err)
	resp.Body.Close()

	code, lines := post(t, c, base+"/chat", map[string]string{"message": "ask Bob to lunch"})
	require.Equal(t, 200, code)
	last := lines[len(lines)-1]
	require.Equal(t, "approval", last.Kind, "%+v", lines)
	assert.Equal(t, "A", last.Server)
	assert.Equal(t, "send_email", last.Approval.Tool)

	code, lines = post(t, c, base+"/decide", map[string]any{"id": last.Approval.ID, "approve": true})
	require.Equal(t, 200, code)
	end := lines[len(lines)-1]
	assert.Equal(t, line{Kind: "done", Text: "Done: the email is sent.", Server: "B"}, end)

	code, _ = post(t, c, base+"/decide", map[string]any{"id": last.Approval.ID, "approve": false})
	assert.Equal(t, http.StatusConflict, code, "decided once")

	// A new message while an approval is pending abandons it (a reloaded
	// page): the call is answered as declined, and the old decision is
	// refused.
	_, lines = post(t, c, base+"/chat", map[string]string{"message": "ask Bob to lunch"})
	pending := lines[len(lines)-1]
	require.Equal(t, "approval", pending.Kind, "%+v", lines)
	_, lines = post(t, c, base+"/chat", map[string]string{"message": "forget it, ask Alice"})
	require.NotEmpty(t, lines)
	assert.Equal(t, line{Kind: "done", Text: "OK, I did not send the email.", Server: "A"}, lines[len(lines)-1], "the model saw the call declined")
	code, _ = post(t, c, base+"/decide", map[string]any{"id": pending.Approval.ID, "approve": true})
	assert.Equal(t, http.StatusConflict, code, "abandoned")

	// Another user cannot decide it, nor see the conversation.
	other := &http.Client{Timeout: 30 * time.Second}
	code, _ = post(t, other, base+"/decide", map[string]any{"id": "nope", "approve": true})
	assert.Equal(t, http.StatusNotFound, code)
}

// chromium returns the browser of AGENTLOOP_CHROMIUM, skipping the test
// when it is unset (failing in CI).
func chromium(t *testing.T) string {
	p := os.Getenv("AGENTLOOP_CHROMIUM")
	if p == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("AGENTLOOP_CHROMIUM is not set: CI must run the chat server's browser test (test.sh installs Chromium)")
		}
		t.Skip("AGENTLOOP_CHROMIUM is not set: set it to a Chromium binary to click through the chat page")
	}
	return p
}

// The page in headless Chromium: type a message, see the pending
// approval, click Approve (or Deny), see the final answer, which the
// other replica gave.
func TestBrowserApproval(t *testing.T) {
	exe := chromium(t)
	for _, tc := range []struct{ button, want string }{
		{"#approve", "Done: the email is sent."},
		{"#deny", "OK, I did not send the email."},
	} {
		t.Run(strings.TrimPrefix(tc.button, "#"), func(t *testing.T) {
			base := cluster(t)
			opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox)
			actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
			defer cancelAlloc()
			ctx, cancel := chromedp.NewContext(actx)
			defer cancel()
			ctx, cancelT := context.WithTimeout(ctx, time.Minute)
			defer cancelT()

			page := func() string { // what the page shows, for failures
				s, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string]("document.body.innerText"))
				return s
			}
			require.NoError(t, chromedp.Do(ctx,
				chromedp.Navigate(base+"/"),
				chromedp.WaitVisible("#msg"),
				chromedp.SendKeys("#msg", "Ask Bob to lunch on Friday"),
				chromedp.Click("#send"),
			))
			shown := `!document.getElementById("approval").hidden`
			_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](shown, chromedp.WithPollingTimeout(20*time.Second)))
			require.NoError(t, err, "no pending approval; the page shows:\n%s", page())
			tool, err := chromedp.Run(ctx, chromedp.Text("#tool"))
			require.NoError(t, err)
			assert.Equal(t, "send_email", tool)
			args, err := chromedp.Run(ctx, chromedp.Text("#args"))
			require.NoError(t, err)
			assert.Contains(t, args, "bob@example.com")
			t.Logf("pending approval shown: %s %s", tool, args)

			require.NoError(t, chromedp.Do(ctx, chromedp.Click(tc.button)))
			_, err = chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`document.querySelector(".served")`, chromedp.WithPollingTimeout(20*time.Second)))
			require.NoError(t, err, "no final answer; the page shows:\n%s", page())
			final, err := chromedp.Run(ctx, chromedp.Text("#final"))
			require.NoError(t, err)
			assert.Equal(t, tc.want, final)
			served, err := chromedp.Run(ctx, chromedp.Text(".served"))
			require.NoError(t, err)
			assert.Equal(t, "answered by B", served, "resumed in the replica that got the decision")
			t.Logf("final answer: %q, %s", final, served)
		})
	}
}
