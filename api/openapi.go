// Package api holds the contracts of the PianoRhythm server: the protobuf
// sources under proto/ and the generated Go code under gen/ (regenerate with
// `make proto`; never edit it by hand).
package api

import _ "embed"

// OpenAPI is the merged OpenAPI (Swagger 2.0) document of the REST API,
// served by the edge at /openapi.json.
//
//go:embed gen/openapi/pianorhythm.swagger.json
var OpenAPI []byte
