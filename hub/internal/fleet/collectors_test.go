package fleet

import (
	"errors"
	"testing"
	"time"

	gpumonv1 "github.com/gpumon/gpumon/gen/gpumon/v1"
)

func legacyReport(host string) *gpumonv1.Report {
	return &gpumonv1.Report{Hostname: host, GpuData: []*gpumonv1.Gpu{{Id: 0}}}
}

// canKill is what the API says about kills on key.
func canKill(t *testing.T, f *Fleet, key string) bool {
	t.Helper()
	m, ok := f.Get(key)
	if !ok {
		t.Fatalf("no machine %s", key)
	}
	return m.Summary().GetCanKill()
}

func TestCollectorAttach(t *testing.T) {
	tests := []struct {
		name string
		// run does the steps and returns the fleet, the key whose kills the
		// collector should reach and the collector's connection.
		run func(t *testing.T, f *Fleet, c *clock) (*Fleet, string, *AgentConn)
	}{
		{"websocket before the first POST", func(t *testing.T, f *Fleet, _ *clock) (*Fleet, string, *AgentConn) {
			conn := NewAgentConn(true)
			if err := f.AttachCollector("old", conn); err != nil {
				t.Fatal(err)
			}
			f.IngestLegacy(legacyReport("old"))
			return f, "old", conn
		}},
		{"websocket after the first POST", func(t *testing.T, f *Fleet, _ *clock) (*Fleet, string, *AgentConn) {
			f.IngestLegacy(legacyReport("old"))
			conn := NewAgentConn(true)
			if err := f.AttachCollector("old", conn); err != nil {
				t.Fatal(err)
			}
			f.IngestLegacy(legacyReport("old"))
			return f, "old", conn
		}},
		{"after a restart, on the restored machine", func(t *testing.T, f *Fleet, _ *clock) (*Fleet, string, *AgentConn) {
			f.IngestLegacy(legacyReport("old"))
			restarted := New(nil)
			restarted.now = f.now
			restarted.Restore(f.Export())
			conn := NewAgentConn(true)
			if err := restarted.AttachCollector("old", conn); err != nil {
				t.Fatal(err)
			}
			restarted.IngestLegacy(legacyReport("old"))
			return restarted, "old", conn
		}},
		{"forgotten and posted again", func(t *testing.T, f *Fleet, c *clock) (*Fleet, string, *AgentConn) {
			conn := NewAgentConn(true)
			f.IngestLegacy(legacyReport("old"))
			if err := f.AttachCollector("old", conn); err != nil {
				t.Fatal(err)
			}
			c.advance(time.Minute)
			f.Sweep()
			if err := f.Forget("old"); err != nil {
				t.Fatal(err)
			}
			f.IngestLegacy(legacyReport("old"))
			return f, "old", conn
		}},
		{"an agent's machine never takes it", func(t *testing.T, f *Fleet, _ *clock) (*Fleet, string, *AgentConn) {
			agent, _ := f.Attach(hello("gpu1", "id-1", 1))
			f.Ingest(agent, 1, report(f.now(), 1))
			conn := NewAgentConn(true)
			if err := f.AttachCollector("gpu1", conn); err != nil {
				t.Fatal(err)
			}
			if agent.Conn() == conn {
				t.Error("the collector took over the agent's machine")
			}
			f.IngestLegacy(legacyReport("gpu1")) // listed beside it as gpu1@legacy
			return f, "gpu1@legacy", conn
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, c := newTestFleet()
			f, key, conn := tc.run(t, f, c)
			m, _ := f.Get(key)
			if m.Conn() != conn || !canKill(t, f, key) {
				t.Fatalf("%s: conn attached %v, can_kill %v; want the collector's and true", key, m.Conn() == conn, canKill(t, f, key))
			}
			f.DetachCollector(m.Hostname, conn)
			if m.Conn() != nil || canKill(t, f, key) {
				t.Errorf("%s after the websocket closed: conn %v, can_kill %v", key, m.Conn(), canKill(t, f, key))
			}
		})
	}
}

func TestCollectorOnePerHostname(t *testing.T) {
	f, _ := newTestFleet()
	f.IngestLegacy(legacyReport("old"))
	first, second := NewAgentConn(true), NewAgentConn(true)
	if err := f.AttachCollector("old", first); err != nil {
		t.Fatal(err)
	}
	if err := f.AttachCollector("old", second); !errors.Is(err, ErrCollectorConnected) {
		t.Fatalf("second websocket for one hostname: %v, want ErrCollectorConnected", err)
	}
	f.DetachCollector("old", second) // not attached: changes nothing
	if m, _ := f.Get("old"); m.Conn() != first {
		t.Fatal("the refused connection's detach removed the first one")
	}
	f.DetachCollector("old", first)
	if err := f.AttachCollector("old", second); err != nil {
		t.Errorf("after the first closed: %v", err)
	}
}

func TestCollectorStatusEvent(t *testing.T) {
	f, _ := newTestFleet()
	f.IngestLegacy(legacyReport("old"))
	sub := f.Events().Subscribe(8)
	defer sub.Close()
	conn := NewAgentConn(true)
	if err := f.AttachCollector("old", conn); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-sub.C:
		if ev.Type != gpumonv1.WatchEventType_WATCH_EVENT_TYPE_STATUS || !ev.Machine.Summary().GetCanKill() {
			t.Errorf("event %v can_kill %v, want a status event with can_kill", ev.Type, ev.Machine.Summary().GetCanKill())
		}
	default:
		t.Error("attaching a collector published no event (watchers would not see can_kill change)")
	}
}
