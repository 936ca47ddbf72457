package status

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// Handler serves the status page: JSON (the StatusReport in the same
// protojson form as the REST API, zero fields included) when the request asks for
// application/json or has ?format=json, an HTML table otherwise. Both
// answer 200 whatever the health; the body says it.
func Handler(report func(context.Context) (*pb.StatusReport, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep, err := report(r.Context())
		if err != nil {
			http.Error(w, "status unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if wantsJSON(r) {
			// Unpopulated fields are written: "up": false must be visible.
			b, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(rep)
			if err != nil {
				http.Error(w, "encode status", http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(b)
			return
		}
		var buf bytes.Buffer
		if err := page.Execute(&buf, pageData(rep)); err != nil {
			http.Error(w, "render status", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(buf.Bytes())
	})
}

func wantsJSON(r *http.Request) bool {
	if r.URL.Query().Get("format") == "json" {
		return true
	}
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

type row struct {
	Name, Latency, Uptime, Checked, Error string
	Up                                    bool
}

type view struct {
	Healthy   bool
	Generated string
	Rows      []row
}

func pageData(rep *pb.StatusReport) view {
	v := view{Healthy: rep.GetHealthy(), Generated: rep.GetGeneratedAt().AsTime().UTC().Format(time.RFC3339)}
	for _, c := range rep.GetComponents() {
		r := row{Name: c.GetName(), Up: c.GetUp(), Error: c.GetError(), Checked: "never"}
		if c.GetCheckedAt() != nil {
			r.Checked = c.GetCheckedAt().AsTime().UTC().Format(time.RFC3339)
			r.Latency = fmt.Sprintf("%.1f ms", c.GetLatencyMs())
			r.Uptime = fmt.Sprintf("%.2f%%", 100*c.GetUptime())
		}
		v.Rows = append(v.Rows, r)
	}
	return v
}

var page = template.Must(template.New("status").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="30">
<title>PianoRhythm status</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:48rem;padding:0 1rem;color:#222}
h1{font-size:1.4rem}
.banner{padding:.6rem 1rem;border-radius:6px;color:#fff;font-weight:600}
.ok{background:#2e7d32}.bad{background:#c62828}
table{border-collapse:collapse;width:100%;margin-top:1rem}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #ddd}
td.up{color:#2e7d32;font-weight:600}td.down{color:#c62828;font-weight:600}
small{color:#666}
</style></head><body>
<h1>PianoRhythm status</h1>
<div class="banner {{if .Healthy}}ok{{else}}bad{{end}}">{{if .Healthy}}All systems operational{{else}}Some systems are down{{end}}</div>
<table>
<thead><tr><th>Component</th><th>Status</th><th>Latency</th><th>Uptime</th><th>Last check</th></tr></thead>
<tbody>
{{range .Rows}}<tr><td>{{.Name}}</td>{{if .Up}}<td class="up">up</td>{{else}}<td class="down" title="{{.Error}}">down</td>{{end}}<td>{{.Latency}}</td><td>{{.Uptime}}</td><td><small>{{.Checked}}</small></td></tr>
{{end}}</tbody></table>
<p><small>Generated {{.Generated}} &middot; <a href="?format=json">JSON</a></small></p>
</body></html>
`))
