package fleet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/e2e/fleet"
	"github.com/pianorhythm/server/pkg/auth"
	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc"
	gcodes "google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// The machinery of the authorization table (authz_test.go): the callers'
// accounts, REST requests built from api/proto/http.yaml, generic gRPC
// calls, and what each row's request needs prepared.

// who is a column of the table: a kind of caller.
type who int

const (
	byAnonymous who = iota
	byGuest
	byMember
	byOwner
	byPro
	byModerator
	byAdmin
	byOther
	byForged
	numWho
)

var whoNames = [numWho]string{"anonymous", "guest", "member", "owner", "pro", "moderator", "admin", "other", "forged"}

func (w who) String() string { return whoNames[w] }

// restRule is one REST mapping of http.yaml.
type restRule struct {
	method, path, body string
}

// scene is the fleet the table runs against and the callers' accounts.
type scene struct {
	t    *testing.T
	f    *fleet.Fleet
	edge string
	http *http.Client

	tok      [numWho]string
	id       [numWho]string
	username [numWho]string
	rules    map[string]restRule // by full method
	seq      atomic.Int64
}

const authzPassword = "authz-password-1"

// newScene registers the callers' accounts: the admin by PR_ADMINS, pro
// and moderator granted by the admin; owner, member and other plain
// members.
func newScene(t *testing.T, f *fleet.Fleet) *scene {
	s := &scene{t: t, f: f, edge: "edge-1", rules: readRules(t),
		http: &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	t.Cleanup(s.http.CloseIdleConnections)
	for _, c := range []who{byAdmin, byMember, byOwner, byPro, byModerator, byOther} {
		name := "authz" + c.String()
		res := ok(s.call(byAnonymous, "/pianorhythm.v1.UserService/Register", &pb.RegisterRequest{Username: name, Password: authzPassword})).(*pb.AuthResponse)
		s.tok[c], s.id[c], s.username[c] = res.GetAccessToken(), res.GetUser().GetId(), name
	}
	g := ok(s.call(byAnonymous, "/pianorhythm.v1.UserService/CreateGuest", &pb.CreateGuestRequest{})).(*pb.AuthResponse)
	s.tok[byGuest], s.id[byGuest] = g.GetAccessToken(), g.GetUser().GetId()
	for c, role := range map[who]pb.Role{byPro: pb.Role_PRO, byModerator: pb.Role_MODERATOR} {
		ok(s.call(byAdmin, "/pianorhythm.v1.UserService/GrantRole", &pb.GrantRoleRequest{UserId: s.id[c], Role: role}))
		// A new token carries the role.
		res := ok(s.call(byAnonymous, "/pianorhythm.v1.UserService/Login", &pb.LoginRequest{Username: s.username[c], Password: authzPassword})).(*pb.AuthResponse)
		s.tok[c] = res.GetAccessToken()
	}
	s.id[byAnonymous], s.id[byForged] = "", s.id[byAdmin]
	return s
}

func ok(m proto.Message, err error) proto.Message {
	if err != nil {
		panic(err)
	}
	return m
}

// readRules reads the REST mappings of api/proto/http.yaml.
func readRules(t *testing.T) map[string]restRule {
	b, err := os.ReadFile(filepath.Join(fleet.ModuleRoot(t), "api", "proto", "http.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		HTTP struct {
			Rules []map[string]string `yaml:"rules"`
		} `yaml:"http"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]restRule{}
	for _, r := range doc.HTTP.Rules {
		sel := r["selector"]
		i := strings.LastIndexByte(sel, '.')
		full := "/" + sel[:i] + "/" + sel[i+1:]
		for _, m := range []string{"get", "post", "put", "patch", "delete"} {
			if p, ok := r[m]; ok {
				out[full] = restRule{method: strings.ToUpper(m), path: p, body: r["body"]}
			}
		}
	}
	return out
}

// unique returns a name no other call of the test used.
func (s *scene) unique(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, s.seq.Add(1))
}

// address is a client address of its own for each call, so the per-IP
// limits of the services (they are real) do not run out across the
// table's hundreds of calls: the edge believes X-Forwarded-For from the
// test (a trusted proxy) and the services believe a peer's.
func (s *scene) address() string {
	n := s.seq.Add(1)
	return fmt.Sprintf("10.%d.%d.%d", (n>>16)&255, (n>>8)&255, n&255)
}

// method returns the descriptor of a full method name.
func method(full string) protoreflect.MethodDescriptor {
	svc, name, _ := strings.Cut(strings.TrimPrefix(full, "/"), "/")
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		panic(err)
	}
	return d.(protoreflect.ServiceDescriptor).Methods().ByName(protoreflect.Name(name))
}

// process is the fleet process serving a service.
func process(full string) string {
	svc, _, _ := strings.Cut(strings.TrimPrefix(full, "/"), "/")
	switch svc {
	case "pianorhythm.v1.StateService":
		return "state-1"
	case "pianorhythm.v1.UserService":
		return "user"
	case "pianorhythm.v1.RoomService", "pianorhythm.v1.DiagnosticsService":
		return "room-1"
	case "pianorhythm.v1.ConnectionService":
		return "edge-1"
	case "pianorhythm.v1.AnalyticsService":
		return "analytics"
	case "pianorhythm.v1.MonitorService":
		return "monitor"
	}
	panic("no process serves " + svc)
}

// outgoing is the context of a gRPC call made for c: its bearer token, or
// for forged the identity metadata of an admin without any token.
func (s *scene) outgoing(ctx context.Context, c who) context.Context {
	ctx = metadata.AppendToOutgoingContext(ctx, auth.MDForwardedFor, s.address())
	switch {
	case c == byForged:
		return auth.OutgoingContext(ctx, auth.Identity{UserID: s.id[byAdmin], DisplayName: "Mallory", Roles: []pb.Role{pb.Role_ADMIN}})
	case s.tok[c] != "":
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+s.tok[c])
	}
	return ctx
}

// invoke calls full on conn for c and returns the answer.
func (s *scene) invoke(conn grpc.ClientConnInterface, c who, full string, req proto.Message) (proto.Message, error) {
	out, err := protoregistry.GlobalTypes.FindMessageByName(method(full).Output().FullName())
	if err != nil {
		panic(err)
	}
	resp := out.New().Interface()
	ctx, cancel := context.WithTimeout(s.t.Context(), 15*time.Second)
	defer cancel()
	// WaitForReady: a connection still being made (or remade) to a busy
	// process waits, so each cell reads the server's answer, not the
	// channel's.
	err = conn.Invoke(s.outgoing(ctx, c), full, req, resp, grpc.WaitForReady(true))
	return resp, err
}

// call is a call for c by a service holding the fleet's key (as the edge
// makes them), on the process that serves full.
func (s *scene) call(c who, full string, req proto.Message) (proto.Message, error) {
	return s.invoke(s.f.Conn(process(full)), c, full, req)
}

// unsigned is the same call without a service credential.
func (s *scene) unsigned(proc string, c who, full string, req proto.Message) gcodes.Code {
	_, err := s.invoke(s.f.UnsignedConn(proc), c, full, req)
	return status.Code(err)
}

var pathParam = regexp.MustCompile(`\{([a-z_.]+)\}`)

// rest makes the REST request of full for c through the edge and returns
// the gRPC code the gateway reports (OK for a 2xx answer).
func (s *scene) rest(c who, full string, req proto.Message) (gcodes.Code, string) {
	rule, ok := s.rules[full]
	if !ok {
		s.t.Fatalf("%s has no REST route", full)
	}
	m := req.ProtoReflect()
	used := map[string]bool{}
	path := pathParam.ReplaceAllStringFunc(rule.path, func(p string) string {
		name := p[1 : len(p)-1]
		used[name] = true
		return url.PathEscape(fieldText(m, name))
	})
	var body io.Reader
	switch rule.body {
	case "":
		q := url.Values{}
		queryOf(m, "", used, q)
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
	case "*":
		b, err := protojson.Marshal(req)
		if err != nil {
			s.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	default:
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(rule.body))
		b, err := protojson.Marshal(m.Get(fd).Message().Interface())
		if err != nil {
			s.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(s.t.Context(), 15*time.Second)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, rule.method, "http://"+s.f.HTTPAddr(s.edge)+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	hr.Header.Set("X-Forwarded-For", s.address())
	hr.Header.Set("Content-Type", "application/json")
	switch {
	case c == byForged:
		// What a client may try: identity headers, plain and in the
		// gateway's metadata form, and no token.
		hr.Header.Set("X-Pr-User-Id", s.id[byAdmin])
		hr.Header.Set("X-Pr-Roles", "ADMIN")
		hr.Header.Set("Grpc-Metadata-X-Pr-Roles", "ADMIN")
		hr.Header.Set("Grpc-Metadata-X-Pr-User-Id", s.id[byAdmin])
	case s.tok[c] != "":
		hr.Header.Set("Authorization", "Bearer "+s.tok[c])
	}
	res, err := s.http.Do(hr)
	if err != nil {
		return gcodes.Unavailable, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 == 2 || res.StatusCode/100 == 3 {
		return gcodes.OK, ""
	}
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) != nil {
		return gcodes.Unknown, fmt.Sprintf("HTTP %d %s", res.StatusCode, b)
	}
	return gcodes.Code(e.Code), e.Message
}

// fieldText is the text of a scalar field of m.
func fieldText(m protoreflect.Message, name string) string {
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		panic("no field " + name)
	}
	v := m.Get(fd)
	if fd.Kind() == protoreflect.EnumKind {
		return string(fd.Enum().Values().ByNumber(v.Enum()).Name())
	}
	return v.String()
}

// queryOf adds the set fields of m (but the path's) as query parameters.
func queryOf(m protoreflect.Message, prefix string, skip map[string]bool, q url.Values) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := prefix + string(fd.Name())
		if skip[name] {
			return true
		}
		switch {
		case fd.IsList():
			for i := range v.List().Len() {
				q.Add(name, scalarText(fd, v.List().Get(i)))
			}
		case fd.Kind() == protoreflect.MessageKind:
			queryOf(v.Message(), name+".", skip, q)
		default:
			q.Set(name, scalarText(fd, v))
		}
		return true
	})
}

func scalarText(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		return string(fd.Enum().Values().ByNumber(v.Enum()).Name())
	case protoreflect.BoolKind:
		return strconv.FormatBool(v.Bool())
	}
	return v.String()
}
