package fleet

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"
	"github.com/asynkron/protoactor-go/remote"

	realtime "github.com/supabase-go/realtime"
)

func validConfig() Config {
	return Config{
		ProjectURL: "http://127.0.0.1:4000",
		APIKey:     "key",
		Provider:   automanaged.New(),
		Remote:     remote.Configure("127.0.0.1", 0),
		Subscriptions: []Subscription{{
			ID:      "orders",
			Setup:   func(*realtime.Client) ([]*realtime.Channel, error) { return nil, nil },
			Handler: realtime.HandlerFunc(func(context.Context, realtime.Event) {}),
		}},
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (&Config{}).Validate(); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("zero config: %v", err)
	}
	ok := validConfig()
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	cases := map[string]func(*Config){
		"ProjectURL":       func(c *Config) { c.ProjectURL = "" },
		"APIKey":           func(c *Config) { c.APIKey = "" },
		"Subscriptions":    func(c *Config) { c.Subscriptions = nil },
		"Provider":         func(c *Config) { c.Provider = nil },
		"Remote":           func(c *Config) { c.Remote = nil },
		"EnsureInterval":   func(c *Config) { c.EnsureInterval = -1 },
		"CoverageInterval": func(c *Config) { c.CoverageInterval = -1 },
		"CloseTimeout":     func(c *Config) { c.CloseTimeout = -1 },
		"Subscriptions[0].ID": func(c *Config) {
			c.Subscriptions[0].ID = "has space"
		},
		"Subscriptions[1].ID": func(c *Config) {
			c.Subscriptions = append(c.Subscriptions, c.Subscriptions[0])
		},
		"Subscriptions[0].Setup":   func(c *Config) { c.Subscriptions[0].Setup = nil },
		"Kind":                     func(c *Config) { c.Kind = "a/b" },
		"ClusterName":              func(c *Config) { c.ClusterName = "two words" },
		"Subscriptions[0].Handler": func(c *Config) { c.Subscriptions[0].Handler = nil },
	}
	for field, mutate := range cases {
		c := validConfig()
		mutate(&c)
		err := c.Validate()
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: got %v", field, err)
		}
		if !strings.HasPrefix(err.Error(), "realtime: ") {
			t.Errorf("%s: error not prefixed: %v", field, err)
		}
	}
}

// Start checks every subscription's client options before joining the
// cluster: a bad option fails Start, not an activation on some member
// later.
func TestStartRejectsBadClientOptions(t *testing.T) {
	c := validConfig()
	c.Subscriptions[0].Options = []realtime.Option{realtime.WithHandlerQueue(-1)}
	_, err := Start(context.Background(), c)
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "orders") {
		t.Fatalf("got %v", err)
	}
	c = validConfig()
	c.ProjectURL = "::not a url"
	if _, err := Start(context.Background(), c); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("bad URL: got %v", err)
	}
}

func TestInflight(t *testing.T) {
	var f inflight
	if !f.claim("a", 1) || f.claim("a", 1) {
		t.Fatal("a second request under the same topology must wait")
	}
	if !f.claim("a", 2) {
		t.Fatal("a new topology gets a request of its own")
	}
	f.release("a", 1) // the old request ends: the new one still counts
	if f.claim("a", 2) {
		t.Fatal("release of an older request freed the newer one")
	}
	f.release("a", 2)
	if !f.claim("a", 2) {
		t.Fatal("released")
	}
}
