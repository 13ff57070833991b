package supporttest

import (
	"testing"
	"time"

	"empathybot/internal/support"
)

func TestMemoryStoreContract(t *testing.T) {
	StoreContract(t, func(t *testing.T) support.ThreadStore { return NewMemory(time.Now) })
}
