package analyticssvc

// WithoutAck returns c for a service that applies entries but never
// acknowledges them, as if it died between the two.
func WithoutAck(c Config) Config {
	c.skipAck = true
	return c
}
