// Package ecosystem holds the tests of what surrounds the binaries: the
// Python and curl examples (make test-examples) and the deployment files,
// the release layout and the READMEs (make test-deploy). They are built only
// with the "ecosystem" tag because they need Debian packages
// (protobuf-compiler, protobuf-compiler-grpc, libprotobuf-dev, systemd) that
// those make targets install when missing:
//
//	go test -tags ecosystem -run 'Python|Curl' ./cli/ecosystem
package ecosystem
