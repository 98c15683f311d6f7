// Chat-server is a web chat with an agent whose risky tool waits for a
// person's approval, the way a web app does it: the run stops, the page
// shows the pending call with Approve and Deny buttons, and the decision is
// a later POST, which any replica of the server may receive. Conversations
// and pending approvals live in one SQLite file that the replicas share
// (session/sqlite); each user has one conversation, kept across restarts.
//
//	go run ./examples/chat-server                     # offline, against a scripted model
//	go run ./examples/chat-server -db chat.db -addr 127.0.0.1:8080 &
//	go run ./examples/chat-server -db chat.db -addr 127.0.0.1:8081   # a second replica
//
// With -model-url (or OPENAI_API_KEY set and no -model-url) it talks to a
// real Responses server instead of the built-in script.
//
// Endpoints: GET / (the page), POST /chat (a message; the answer streams
// back as JSON lines), POST /decide (an approval decision; the resumed
// run streams back the same way).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/session"
	"github.com/agentloop/agentloop/session/sqlite"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chat-server:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("chat-server", flag.ContinueOnError)
	db := fs.String("db", "", "the SQLite file of conversations, shared by the replicas (default: chat.db in a new temporary directory)")
	addr := fs.String("addr", "127.0.0.1:0", "the address to listen on")
	name := fs.String("name", "", "this replica's name, shown with each answer (default: its pid)")
	modelURL := fs.String("model-url", "", "the base URL of a Responses server (default: a scripted model in this process, or OpenAI with OPENAI_API_KEY)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" {
		*name = fmt.Sprintf("pid %d", os.Getpid())
	}
	if *db == "" {
		dir, err := os.MkdirTemp("", "chat-server-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*db = filepath.Join(dir, "chat.db")
	}
	store, err := sqlite.Open(ctx, *db, nil)
	if err != nil {
		return err
	}
	defer store.Close()

	copts := &responses.ClientOptions{Provider: responses.Compatible, BaseURL: *modelURL, APIKey: "none"}
	model := "scripted-model"
	switch {
	case *modelURL != "":
	case os.Getenv("OPENAI_API_KEY") != "":
		copts, model = &responses.ClientOptions{APIKey: os.Getenv("OPENAI_API_KEY")}, "gpt-5-mini"
	default:
		srv := rt.NewServer(Script())
		defer srv.Close()
		copts.BaseURL = srv.URL
	}
	a := agent.New(responses.NewClient(copts), model, &agent.Options{
		Instructions: "You help the user with their email. Sending needs the user's approval.",
		Tools:        []tools.Tool{sendEmail()},
		// A web app cannot ask while the request runs: every approval is
		// deferred, and the run stops until a decision is posted.
		Approver: agent.ApproverFunc(func(context.Context, tools.ApprovalRequest) (agent.Approval, error) {
			return agent.Defer, nil
		}),
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: newServer(store, a, *name), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type emailArgs struct {
	To      string `json:"to" jsonschema:"the recipient's address"`
	Subject string `json:"subject"`
}

// sendEmail is the tool that needs approval. It only pretends to send.
func sendEmail() tools.Tool {
	return function.New("send_email", "Send an email.", func(ctx context.Context, in emailArgs) (string, error) {
		return fmt.Sprintf("sent %q to %s", in.Subject, in.To), nil
	}, &function.Options{NeedsApproval: function.Always})
}

// Script is the offline model: it asks to send an email, then reports
// what became of it.
func Script() rt.Turn {
	return rt.Model(func(req *responses.Request) rt.Reply {
		for _, it := range req.Input.Items {
			if !it.IsOutput() {
				continue
			}
			var out struct {
				Output string `json:"output"`
			}
			_ = it.Decode(&out)
			if strings.HasPrefix(out.Output, "sent ") {
				return rt.Output(rt.Text("Done: the email is sent."))
			}
			return rt.Output(rt.Text("OK, I did not send the email."))
		}
		return rt.Output(rt.FunctionCall("", "send_email", `{"to":"bob@example.com","subject":"Lunch on Friday?"}`))
	})
}

// server serves the page and the two POSTs.
type server struct {
	store session.Store
	agent *agent.Agent
	name  string
}

func newServer(store session.Store, a *agent.Agent, name string) http.Handler {
	s := &server{store: store, agent: a, name: name}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("POST /chat", s.chat)
	mux.HandleFunc("POST /decide", s.decide)
	return mux
}

// user returns the conversation of the browser, from its cookie (set on
// first visit). A real app would use its login.
func (s *server) user(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie("chat_user"); err == nil && len(c.Value) == 32 {
		return c.Value
	}
	id := session.NewID()
	http.SetCookie(w, &http.Cookie{Name: "chat_user", Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return id
}

func (s *server) page(w http.ResponseWriter, r *http.Request) {
	s.user(w, r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, page)
}

// line is one JSON line of a streamed answer.
type line struct {
	Kind     string    `json:"kind"` // "delta", "tool", "approval", "done", "error"
	Text     string    `json:"text,omitempty"`
	Server   string    `json:"server,omitempty"`
	Approval *approval `json:"approval,omitempty"`
}

type approval struct {
	ID        string `json:"id"`
	Tool      string `json:"tool"`
	Arguments string `json:"arguments"`
}

func (s *server) chat(w http.ResponseWriter, r *http.Request) {
	conv := "user-" + s.user(w, r)
	var req struct {
		Message string `json:"message"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || strings.TrimSpace(req.Message) == "" {
		http.Error(w, `send {"message": "..."}`, http.StatusBadRequest)
		return
	}
	att, err := session.Attach(r.Context(), s.store, conv, nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	in := []responses.Item{responses.UserMessage(req.Message)}
	s.stream(w, att, att.Stream(r.Context(), s.agent, in))
}

func (s *server) decide(w http.ResponseWriter, r *http.Request) {
	conv := "user-" + s.user(w, r)
	var req struct {
		ID      string `json:"id"`
		Approve bool   `json:"approve"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || req.ID == "" {
		http.Error(w, `send {"id": "...", "approve": true}`, http.StatusBadRequest)
		return
	}
	ap, err := session.TakeApproval(r.Context(), s.store, req.ID)
	switch {
	case errors.Is(err, session.ErrPendingTaken):
		http.Error(w, "this approval was already decided", http.StatusConflict)
		return
	case errors.Is(err, session.ErrNotFound):
		http.Error(w, "no such approval", http.StatusNotFound)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if ap.Conversation != conv {
		http.Error(w, "no such approval", http.StatusNotFound) // another user's: taken, but never resumed here
		return
	}
	var decisions []agent.Decision
	for _, p := range ap.State.Pending {
		d := agent.Decision{CallID: p.CallID, Approval: agent.Approve}
		if !req.Approve {
			d.Approval = agent.Deny("the user declined")
		}
		decisions = append(decisions, d)
	}
	att, err := session.Attach(r.Context(), s.store, conv, nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.stream(w, att, att.ResumeStream(r.Context(), s.agent, ap.State, decisions))
}

// stream writes a run's events as JSON lines as they come, then how it
// ended.
func (s *server) stream(w http.ResponseWriter, att *session.Attached, seq func(func(agent.Event, error) bool)) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-cache")
	enc := json.NewEncoder(w)
	flush := func() {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	var res *agent.Result
	var runErr error
	for ev, err := range seq {
		switch {
		case ev.Kind == agent.EventTextDelta:
			enc.Encode(line{Kind: "delta", Text: ev.Delta})
		case ev.Kind == agent.EventToolFinished && ev.Tool != nil:
			enc.Encode(line{Kind: "tool", Text: fmt.Sprintf("%s: %s", ev.Tool.Name, ev.Tool.Outcome)})
		case ev.Kind == agent.EventRunCompleted:
			res, runErr = ev.Result, err
		}
		flush()
	}
	switch {
	case runErr != nil:
		enc.Encode(line{Kind: "error", Text: runErr.Error(), Server: s.name})
	case res != nil && len(res.Pending) > 0:
		p := res.Pending[0]
		enc.Encode(line{Kind: "approval", Server: s.name, Approval: &approval{
			ID: att.PendingID(), Tool: p.Request.Tool, Arguments: string(p.Request.Arguments),
		}})
	case res != nil:
		enc.Encode(line{Kind: "done", Text: res.Text, Server: s.name})
	}
	flush()
}

const page = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>agentloop chat</title>
<style>
body { font: 15px system-ui, sans-serif; max-width: 40em; margin: 2em auto; }
#log p { margin: .4em 0; } .user { color: #333; } .agent { color: #064; } .note { color: #888; font-size: 90%; }
#approval { border: 1px solid #c90; background: #fff8e6; padding: .6em; margin: .6em 0; }
</style>
<div id="log"></div>
<div id="approval" hidden>
  <p>The agent wants to run <b id="tool"></b> with <code id="args"></code></p>
  <button id="approve">Approve</button> <button id="deny">Deny</button>
</div>
<form id="f"><input id="msg" size="50" autocomplete="off" placeholder="Ask the agent"> <button id="send">Send</button></form>
<script>
const log = document.getElementById("log");
function add(cls, text) { const p = document.createElement("p"); p.className = cls; p.textContent = text; log.append(p); return p; }
let pendingID = "";
async function post(path, body) {
  f.hidden = true;
  const answer = add("agent", "");
  const resp = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  if (!resp.ok) { add("note error", await resp.text()); f.hidden = false; return; }
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buf += value;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const ev = JSON.parse(buf.slice(0, i)); buf = buf.slice(i + 1);
      if (ev.kind === "delta") answer.textContent += ev.text;
      else if (ev.kind === "tool") add("note tool", ev.text);
      else if (ev.kind === "approval") {
        pendingID = ev.approval.id;
        document.getElementById("tool").textContent = ev.approval.tool;
        document.getElementById("args").textContent = ev.approval.arguments;
        document.getElementById("approval").hidden = false;
        add("note", "waiting for your approval (asked by " + ev.server + ")");
        return;
      } else if (ev.kind === "done") {
        answer.id = "final"; answer.textContent = ev.text;
        add("note served", "answered by " + ev.server);
      } else if (ev.kind === "error") add("note error", ev.text);
    }
  }
  f.hidden = false;
}
f.onsubmit = e => {
  e.preventDefault();
  const text = msg.value.trim(); if (!text) return;
  msg.value = ""; add("user", text);
  post("/chat", {message: text});
};
function decide(ok) {
  document.getElementById("approval").hidden = true;
  add("note", ok ? "approved" : "denied");
  post("/decide", {id: pendingID, approve: ok});
}
document.getElementById("approve").onclick = () => decide(true);
document.getElementById("deny").onclick = () => decide(false);
</script>
</html>
`
