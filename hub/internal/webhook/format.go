package webhook

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Format is the JSON body a webhook is sent.
type Format string

// The formats: Alertmanager's webhook JSON (for anything that takes
// Alertmanager's webhooks), and the text messages of Slack-style, Feishu
// (Lark) and DingTalk (also WeCom) incoming webhooks.
const (
	Alertmanager Format = "alertmanager"
	Slack        Format = "slack"
	Feishu       Format = "feishu"
	DingTalk     Format = "dingtalk"
)

// formats lists the formats --webhook-format takes.
var formats = []Format{Alertmanager, Slack, Feishu, DingTalk}

// ParseFormat reads a --webhook-format value.
func ParseFormat(s string) (Format, error) {
	if slices.Contains(formats, Format(s)) {
		return Format(s), nil
	}
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("--webhook-format %q: want one of %s", s, strings.Join(names, ", "))
}

// Alert is one alert as a webhook tells it.
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

// Fingerprint identifies an alert by its labels, as Alertmanager does.
func (a Alert) Fingerprint() string {
	ls := make(model.LabelSet, len(a.Labels))
	for k, v := range a.Labels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls.Fingerprint().String()
}

// Statuses of a message.
const (
	firing   = "firing"
	resolved = "resolved"
)

// message is one notification: one alert, firing or resolved.
type message struct {
	status string
	fp     string
	alert  Alert
	endsAt time.Time
}

// amMessage is Alertmanager's webhook body (version 4). Each message holds
// one alert, as from an Alertmanager route with group_by: ['...'].
type amMessage struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	Alerts            []amAlert         `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
}

type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Receiver is the receiver name the Alertmanager format carries.
const Receiver = "gpumon"

// body renders m in format f; externalURL is the hub's page.
func body(f Format, m message, externalURL string) ([]byte, error) {
	switch f {
	case Slack:
		return json.Marshal(map[string]string{"text": text(m)})
	case Feishu:
		return json.Marshal(map[string]any{"msg_type": "text", "content": map[string]string{"text": text(m)}})
	case DingTalk:
		return json.Marshal(map[string]any{"msgtype": "text", "text": map[string]string{"content": text(m)}})
	}
	a := m.alert
	ends := time.Time{}
	if m.status == resolved {
		ends = m.endsAt.UTC()
	}
	labels, annotations := orEmpty(a.Labels), orEmpty(a.Annotations)
	ls := model.LabelSet{}
	for k, v := range labels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return json.Marshal(amMessage{
		Receiver: Receiver, Status: m.status,
		Alerts: []amAlert{{Status: m.status, Labels: labels, Annotations: annotations, StartsAt: a.StartsAt.UTC(),
			EndsAt: ends, GeneratorURL: a.GeneratorURL, Fingerprint: m.fp}},
		GroupLabels: labels, CommonLabels: labels, CommonAnnotations: annotations,
		ExternalURL: externalURL, Version: "4", GroupKey: "{}:" + ls.String(),
	})
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// text is the message a chat webhook shows: what fires or was resolved, the
// description, and since when.
func text(m message) string {
	a := m.alert
	title := a.Annotations["summary"]
	if title == "" {
		title = a.Labels["alertname"] + " " + labelList(a.Labels)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "gpumon [%s] %s", strings.ToUpper(m.status), title)
	if d := a.Annotations["description"]; d != "" {
		b.WriteString("\n" + d)
	}
	start := a.StartsAt.UTC().Format("2006-01-02 15:04:05 UTC")
	if m.status == resolved {
		fmt.Fprintf(&b, "\nfrom %s to %s", start, m.endsAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	} else {
		fmt.Fprintf(&b, "\nsince %s", start)
	}
	return b.String()
}

// labelList writes labels but alertname as {a="b", ...}.
func labelList(l map[string]string) string {
	ls := model.LabelSet{}
	for k, v := range l {
		if k != "alertname" {
			ls[model.LabelName(k)] = model.LabelValue(v)
		}
	}
	return ls.String()
}
