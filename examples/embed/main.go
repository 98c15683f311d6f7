// Embed puts an agent behind a net/http handler that streams the run's
// events to the browser as server-sent events.
//
//	go run ./examples/embed          # serves one request itself, prints the stream, exits
//	go run ./examples/embed -serve   # keeps serving; open the printed URL in a browser
//
// It runs offline against a scripted model.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

const page = `<!doctype html><meta charset="utf-8"><title>agentloop</title>
<form id=f><input id=q size=60 value="What time is it in UTC?"><button>Ask</button></form>
<pre id=log></pre><p id=answer></p>
<script>
f.onsubmit = e => {
  e.preventDefault(); log.textContent = ""; answer.textContent = "";
  const es = new EventSource("/ask?q=" + encodeURIComponent(q.value));
  es.onmessage = m => {
    const ev = JSON.parse(m.data);
    if (ev.kind === "text_delta") answer.textContent += ev.delta;
    else log.textContent += ev.kind + (ev.tool ? " " + ev.tool.name + " " + (ev.tool.outcome||"") : "") + "\n";
    if (ev.kind === "run_completed") es.close();
  };
};
</script>`

// handler runs one agent per request and streams its events.
type handler struct{ agent *agent.Agent }

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	if q == "" {
		http.Error(w, "missing q", http.StatusBadRequest)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	// The run ends when the browser goes away: r.Context() is canceled.
	for ev, err := range h.agent.Stream(r.Context(), q) {
		if err != nil {
			b, _ := json.Marshal(map[string]string{"kind": "error", "error": err.Error()})
			fmt.Fprintf(w, "event: error\ndata: %s\n\n", b)
		}
		b, _ := json.Marshal(ev)
		fmt.Fprintf(w, "data: %s\n\n", b)
		flusher.Flush()
	}
}

func main() {
	serve := flag.Bool("serve", false, "keep serving until interrupted")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *serve); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, serve bool) error {
	model := rt.NewServer(rt.Model(func(req *responses.Request) rt.Reply {
		if req.PreviousResponseID == "" {
			return rt.Output(rt.FunctionCall("call_now", "utc_time", `{}`))
		}
		var out struct {
			Output string `json:"output"`
		}
		_ = req.Input.Items[0].Decode(&out)
		return rt.Output(rt.Text("It is " + out.Output + " UTC."))
	}))
	defer model.Close()

	clock := function.New("utc_time", "The current UTC time.", func(ctx context.Context, _ struct{}) (string, error) {
		return "12:00", nil // a fixed clock keeps the demo's output stable
	}, nil)
	a := agent.New(responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: model.URL}),
		"scripted-model", &agent.Options{Tools: []tools.Tool{clock}})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, page) })
	mux.Handle("GET /ask", handler{a})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	if serve {
		fmt.Println("open", base)
		<-ctx.Done()
		return nil
	}
	// Be our own browser: ask once and print the event stream.
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/ask?q="+url.QueryEscape("What time is it in UTC?"), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev agent.Event
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			return fmt.Errorf("decode event: %w", err)
		}
		switch {
		case ev.Kind == agent.EventTextDelta:
			fmt.Printf("%s %q\n", ev.Kind, ev.Delta)
		case ev.Tool != nil:
			fmt.Printf("%s %s %s\n", ev.Kind, ev.Tool.Name, ev.Tool.Outcome)
		case ev.Kind == agent.EventRunCompleted:
			fmt.Printf("%s: %q\n", ev.Kind, ev.Result.Text)
		default:
			fmt.Println(ev.Kind)
		}
	}
	return sc.Err()
}
