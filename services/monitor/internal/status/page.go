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
	Name, State, Latency, Uptime, Checked, Error string
	CPU, Memory, Goroutines, Conns, Errors       string
	Reasons                                      []string
	Spark                                        template.HTML
}

type view struct {
	Healthy, Degraded bool
	Generated         string
	Rows              []row
}

func pageData(rep *pb.StatusReport) view {
	v := view{Healthy: rep.GetHealthy(), Degraded: rep.GetDegraded(), Generated: rep.GetGeneratedAt().AsTime().UTC().Format(time.RFC3339)}
	for _, c := range rep.GetComponents() {
		r := row{Name: c.GetName(), State: c.GetState(), Error: c.GetError(), Checked: "never", Reasons: c.GetDegradedReasons()}
		if r.State == "" {
			r.State = "down"
		}
		if c.GetCheckedAt() != nil {
			r.Checked = c.GetCheckedAt().AsTime().UTC().Format(time.RFC3339)
			r.Latency = fmt.Sprintf("%.1f ms", c.GetLatencyMs())
			r.Uptime = fmt.Sprintf("%.2f%%", 100*c.GetUptime())
			r.Spark = sparkline(c.GetLatencyHistoryMs())
		}
		if u := c.GetResources(); u != nil {
			r.CPU = fmt.Sprintf("%.1f%%", u.GetCpuPercent())
			r.Memory = Bytes(u.GetMemoryBytes())
			r.Goroutines = fmt.Sprint(u.GetGoroutines())
			r.Conns = fmt.Sprint(u.GetGrpcConnections())
			if ws, ok := u.GetGauges()["websocket_connections"]; ok {
				r.Conns += fmt.Sprintf(" (+%d ws)", int(ws))
			}
		}
		r.Errors = fmt.Sprintf("%.1f", c.GetErrorsPerMinute())
		v.Rows = append(v.Rows, r)
	}
	return v
}

// sparkline draws latencies (oldest first) as an inline SVG polyline, the
// highest point at the top; numbers only, so it is safe HTML.
func sparkline(ms []float64) template.HTML {
	const w, h = 120.0, 24.0
	if len(ms) == 0 {
		return ""
	}
	top := 0.0
	for _, v := range ms {
		top = max(top, v)
	}
	if top == 0 {
		top = 1
	}
	var pts strings.Builder
	for i, v := range ms {
		x := w
		if len(ms) > 1 {
			x = w * float64(i) / float64(len(ms)-1)
		}
		fmt.Fprintf(&pts, "%.1f,%.1f ", x, h-1-(h-2)*v/top)
	}
	return template.HTML(fmt.Sprintf(`<svg class="spark" width="%g" height="%g" viewBox="0 0 %g %g" role="img" aria-label="latency of the last %d checks, up to %.1f ms"><polyline fill="none" stroke="#1565c0" stroke-width="1.5" points="%s"/></svg>`,
		w, h, w, h, len(ms), top, strings.TrimSpace(pts.String())))
}

var page = template.Must(template.New("status").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="30">
<title>PianoRhythm status</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#222}
h1{font-size:1.4rem}
.banner{padding:.6rem 1rem;border-radius:6px;color:#fff;font-weight:600}
.ok{background:#2e7d32}.warn{background:#ef6c00}.bad{background:#c62828}
table{border-collapse:collapse;width:100%;margin-top:1rem}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}
td.up{color:#2e7d32;font-weight:600}td.degraded{color:#ef6c00;font-weight:600}td.down{color:#c62828;font-weight:600}
small{color:#666}ul{margin:.2rem 0 0 1rem;padding:0}
</style></head><body>
<h1>PianoRhythm status</h1>
<div class="banner {{if not .Healthy}}bad{{else if .Degraded}}warn{{else}}ok{{end}}">{{if not .Healthy}}Some systems are down{{else if .Degraded}}Some systems are degraded{{else}}All systems operational{{end}}</div>
<table>
<thead><tr><th>Component</th><th>Status</th><th>Latency</th><th>Recent latency</th><th>Uptime</th><th>CPU</th><th>Memory</th><th>Goroutines</th><th>Connections</th><th>Errors/min</th><th>Last check</th></tr></thead>
<tbody>
{{range .Rows}}<tr><td>{{.Name}}</td><td class="{{.State}}" title="{{.Error}}">{{.State}}{{if .Reasons}}<ul>{{range .Reasons}}<li><small>{{.}}</small></li>{{end}}</ul>{{end}}{{if .Error}}<br><small>{{.Error}}</small>{{end}}</td><td>{{.Latency}}</td><td>{{.Spark}}</td><td>{{.Uptime}}</td><td>{{.CPU}}</td><td>{{.Memory}}</td><td>{{.Goroutines}}</td><td>{{.Conns}}</td><td>{{.Errors}}</td><td><small>{{.Checked}}</small></td></tr>
{{end}}</tbody></table>
<p><small>Generated {{.Generated}} &middot; <a href="?format=json">JSON</a> &middot; CPU, memory and goroutines are per process: services of one program show the same.</small></p>
</body></html>
`))
