package service

// Default per-machine snapshot rate limit: a sustained rate well above any
// sane interval, and a burst that covers an agent replaying its whole
// buffer (10 minutes at 1 s) after an outage.
const (
	DefaultSnapshotRate  = 20
	DefaultSnapshotBurst = 1200
)
