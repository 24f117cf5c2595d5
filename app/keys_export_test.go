package app

import "time"

// SetKeyClock makes the key lifecycle read the time from now, so that tests can cross
// expiries, grace periods and allowed hours without waiting.
func (a *App) SetKeyClock(now func() time.Time) { a.lifecycle.clock.now.Store(&now) }
