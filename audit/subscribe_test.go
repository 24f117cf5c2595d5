package audit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

func TestSubscribersHearCommittedRowsOnly(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	l := newLog(t, db, newKey())
	var heard []audit.Entry
	l.Subscribe(func(e audit.Entry) { heard = append(heard, e) })
	record(t, l, 2)
	boom := errors.New("the change failed")
	err := db.WriteTx(context.Background(), func(tx *store.Tx) error {
		if err := l.RecordTx(context.Background(), tx, event(3)); err != nil {
			return err
		}
		return boom // the change fails: its audit row rolls back with it
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if len(heard) != 2 || heard[0].Seq != 1 || heard[1].Seq != 2 || heard[1].Action != "key.create" ||
		heard[1].Hash == "" || heard[1].Details["name"] != "svc" {
		t.Fatalf("heard %+v", heard)
	}
}
