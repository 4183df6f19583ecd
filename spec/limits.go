package spec

// Format and protocol constants. A breaking change to any wire format gets a
// new version or protocol ID; limits may only be raised with care, since
// older nodes reject what exceeds theirs.
const (
	// Version is the entry format version ("v") this code writes and accepts.
	Version = 3

	// MaxEntrySize bounds the encoded size of one entry, signature included.
	MaxEntrySize = 64 << 10

	// MaxRecipients bounds the readers of one entry: the slots of a sealed
	// audience (a power of two, see SlotCount).
	MaxRecipients = 512

	// MaxKindLen and MaxKeyLen bound the record name inside a body.
	MaxKindLen = 32
	MaxKeyLen  = 256

	// ProtoSync is the log replication protocol.
	ProtoSync = "/kith/sync/1.0.0"
	// ProtoConnect is the connection request protocol.
	ProtoConnect = "/kith/connect/1.0.0"

	// SignatureSize is the size of an Ed25519 signature.
	SignatureSize = 64
)
