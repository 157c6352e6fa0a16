package process

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
)

// readInto reads the file at path into buf (from its start) and returns the
// filled part. It reads at most len(buf) bytes: the files read this way are
// small, and a longer one (cmdline) is meant to be cut.
func readInto(path string, buf []byte) ([]byte, error) {
	fd, err := openRetry(path)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	n := 0
	for n < len(buf) {
		m, err := syscall.Read(fd, buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return buf[:n], nil
}

func openRetry(path string) (int, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}

// gone reports whether err means the process went away while it was read.
func gone(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ESRCH)
}

// pidLister lists the numeric entries of a proc directory without
// allocating a string per entry.
type pidLister struct {
	buf []byte
}

// list appends the pids found in dir to pids.
func (l *pidLister) list(dir string, pids []int32) ([]int32, error) {
	fd, err := openRetry(dir)
	if err != nil {
		return pids, fmt.Errorf("open %s: %w", dir, err)
	}
	defer syscall.Close(fd)
	if l.buf == nil {
		l.buf = make([]byte, 32<<10)
	}
	for {
		n, err := syscall.ReadDirent(fd, l.buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return pids, fmt.Errorf("read %s: %w", dir, err)
		}
		if n <= 0 {
			return pids, nil
		}
		pids = appendDirentPIDs(l.buf[:n], pids)
	}
}

// appendDirentPIDs parses linux_dirent64 records and appends the names that
// are numbers.
func appendDirentPIDs(b []byte, pids []int32) []int32 {
	const nameOff = 19 // ino(8) off(8) reclen(2) type(1)
	for len(b) >= nameOff {
		reclen := int(binary.NativeEndian.Uint16(b[16:18]))
		if reclen < nameOff || reclen > len(b) {
			break
		}
		name := b[nameOff:reclen]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		if v, ok := parseUint(name); ok && v > 0 && v <= 1<<31-1 {
			pids = append(pids, int32(v))
		}
		b = b[reclen:]
	}
	return pids
}
