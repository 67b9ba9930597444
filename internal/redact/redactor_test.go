package redact

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

func TestRedactorKnowsEverySecretItWasGiven(t *testing.T) {
	r := NewRedactor("api-key-1234", "")
	r.Add("abc") // too short to be a secret
	r.Add("tok-1111")
	r.Add("tok-1111-longer") // contains an earlier secret: replaced whole
	in := "k=api-key-1234 t=tok-1111 t2=tok-1111-longer abc"
	want := "k=REDACTED t=REDACTED t2=REDACTED abc"
	if got := r.String(in); got != want {
		t.Fatalf("String = %q, want %q", got, want)
	}
	raw := []byte(`{"reason":"api-key-1234"}`)
	if got := string(r.Bytes(raw)); got != `{"reason":"REDACTED"}` {
		t.Fatalf("Bytes = %s", got)
	}
	clean := []byte(`{"a":1}`)
	if got := r.Bytes(clean); &got[0] != &clean[0] {
		t.Fatalf("Bytes copied a slice without secrets")
	}
	var nilR *Redactor
	nilR.Add("x-secret")
	if nilR.String("x-secret") != "x-secret" {
		t.Fatalf("a nil Redactor changed its input")
	}
}

func TestRedactorIsSafeForConcurrentUse(t *testing.T) {
	r := NewRedactor()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sec := strings.Repeat(string(rune('a'+i)), 8)
			r.Add(sec)
			if r.String(sec) != "REDACTED" {
				t.Errorf("secret %q not redacted after Add", sec)
			}
		}()
	}
	wg.Wait()
}

type stringer struct{}

func (stringer) String() string { return "pid token-secret" }

func TestHandlerRedactsMessagesAndEveryKindOfAttr(t *testing.T) {
	r := NewRedactor("token-secret")
	var buf bytes.Buffer
	l := slog.New(Handler(slog.NewTextHandler(&buf, nil), r)).With("pre", "token-secret")
	l.WithGroup("g").Info("msg token-secret",
		"s", "token-secret",
		"err", errors.New("closed: token-secret"),
		"str", stringer{},
		"any", []string{"token-secret"},
		slog.Group("grp", "inner", "token-secret"),
		"n", 42)
	out := buf.String()
	if strings.Contains(out, "token-secret") {
		t.Fatalf("secret logged: %s", out)
	}
	if !strings.Contains(out, "n=42") || strings.Count(out, "REDACTED") != 7 {
		t.Fatalf("unexpected output: %s", out)
	}
}
