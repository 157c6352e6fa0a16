package gateway

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gpumon/gpumon/common/wirejson"
)

// Marshaler writes messages in gpumon's wire JSON (see package wirejson) and
// reads request bodies leniently, the way the original system's senders
// write them.
type Marshaler struct {
	Lenient wirejson.Lenient
}

var _ runtime.Marshaler = (*Marshaler)(nil)

// ContentType is always JSON.
func (*Marshaler) ContentType(any) string { return "application/json" }

// Marshal renders v. Server-stream chunks ({"result": msg}) are unwrapped so
// that a stream is plain newline-delimited JSON of the response messages.
func (*Marshaler) Marshal(v any) ([]byte, error) {
	switch x := v.(type) {
	case proto.Message:
		return wirejson.Marshal(x), nil
	case map[string]any:
		if r, ok := x["result"].(proto.Message); ok && len(x) == 1 {
			return wirejson.Marshal(r), nil
		}
	case map[string]proto.Message:
		if st, ok := x["error"].(*status.Status); ok {
			return errorBody(st.GetMessage()), nil
		}
	}
	return json.Marshal(v)
}

// Unmarshal reads data into v: a message, or a pointer to a message field
// (what grpc-gateway passes for a route whose body is one field).
func (m *Marshaler) Unmarshal(data []byte, v any) error {
	if pm, ok := v.(proto.Message); ok {
		return m.Lenient.Unmarshal(data, pm)
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.Elem().Kind() == reflect.Pointer {
		if pm, ok := reflect.New(rv.Elem().Type().Elem()).Interface().(proto.Message); ok {
			if err := m.Lenient.Unmarshal(data, pm); err != nil {
				return err
			}
			rv.Elem().Set(reflect.ValueOf(pm))
			return nil
		}
	}
	return json.Unmarshal(data, v)
}

// NewDecoder reads a whole body and unmarshals it.
func (m *Marshaler) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		data, err := readBody(r)
		defer putBody(data)
		if err != nil {
			return err
		}
		if len(data) == 0 {
			return errors.New("request body is empty")
		}
		return m.Unmarshal(data, v)
	})
}

// Bodies are read into buffers kept for the next request: unmarshalling
// copies what it keeps of a body (wirejson's TestUnmarshalKeepsNothingOfData), so
// a buffer is free again once the message is read.
var bodies sync.Pool // *[]byte

// maxPooledBody bounds the buffers kept: a rare large body is not held on to.
const maxPooledBody = 1 << 20

// readBody reads r to its end into a kept buffer. A buffer that fills up
// grows by what it holds (at most twice what was received: a client that
// announces a large body and sends little does not make the hub allocate
// it), and no further than the length r announces, when it knows one (a
// request's Content-Length).
func readBody(r io.Reader) ([]byte, error) {
	var buf []byte
	if bp, ok := bodies.Get().(*[]byte); ok {
		buf = (*bp)[:0]
	}
	hint := int64(-1)
	if h, ok := r.(interface{ sizeHint() int64 }); ok {
		hint = h.sizeHint()
	}
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) == hint {
				// All that was announced is here: look for the end
				// without growing the buffer.
				var one [1]byte
				n, err := io.ReadFull(r, one[:])
				buf = append(buf, one[:n]...)
				if err == io.EOF {
					return buf, nil
				}
				if err != nil {
					return buf, err
				}
				continue
			}
			buf = more(buf, hint)
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// more gives a full buf room for what follows of a body announced as hint
// bytes (-1: unknown).
func more(buf []byte, hint int64) []byte {
	grow := max(512, len(buf))
	if rest := hint + 1 - int64(len(buf)); rest > 0 && rest < int64(grow) {
		grow = int(rest) // +1: the read that finds the end needs room
	}
	return slices.Grow(buf, grow)
}

// putBody keeps buf for the next request.
func putBody(buf []byte) {
	if cap(buf) == 0 || cap(buf) > maxPooledBody {
		return
	}
	buf = buf[:0]
	bodies.Put(&buf)
}

// NewEncoder writes each value followed by a newline.
func (m *Marshaler) NewEncoder(w io.Writer) runtime.Encoder {
	return runtime.EncoderFunc(func(v any) error {
		b, err := m.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	})
}

// Delimiter separates messages of a server stream.
func (*Marshaler) Delimiter() []byte { return []byte("\n") }

// errorBody is the documented error body {"status":"error","message":...}.
func errorBody(msg string) []byte {
	b, _ := json.Marshal(struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	}{"error", msg})
	return b
}
