package fleet

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Ports are chosen once per process and kept across restarts, since a
// restarted service must come back where its peers look for it. A port
// picked with 127.0.0.1:0 lies in the kernel's ephemeral range, where any
// outgoing connection of the machine may take it while the service is
// down; so ports come from just below that range instead, each checked
// free when picked and never handed out twice by this binary.
var ports struct {
	mu    sync.Mutex
	given map[int]bool
}

// freePort returns a loopback port that is free now and below the
// ephemeral range.
func freePort() (int, error) {
	low := ephemeralLow()
	lo, hi := max(1024, low-12000), low-1
	ports.mu.Lock()
	defer ports.mu.Unlock()
	if ports.given == nil {
		ports.given = map[int]bool{}
	}
	for range 1000 {
		p := lo + rand.IntN(hi-lo+1)
		if ports.given[p] {
			continue
		}
		lis, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		lis.Close()
		ports.given[p] = true
		return p, nil
	}
	return 0, fmt.Errorf("no free port in %d-%d", lo, hi)
}

// ephemeralLow is the first port of the kernel's ephemeral range (32768
// when it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) < 1 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 2048 {
		return 32768
	}
	return n
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
