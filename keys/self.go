package keys

import (
	"encoding/json"
	"time"
)

// SelfView is what GET /v1/key shows the calling key about itself: never a secret.
// Self leaves SpendUSD and Budget.SpentUSD at 0 and Budget.RemainingUSD at the whole
// limit; the server fills them in from billing.
type SelfView struct {
	ID           string      `json:"id"`
	Kind         Kind        `json:"kind"`
	Name         string      `json:"name"`
	Project      string      `json:"project"`
	ParentID     string      `json:"parent_id,omitempty"`
	Models       []string    `json:"models"`
	Endpoints    []string    `json:"endpoints"`
	AllowedIPs   []string    `json:"allowed_ips,omitempty"`
	AllowedHours string      `json:"allowed_hours,omitempty"`
	Limits       *Limits     `json:"limits"`
	ExpiresAt    *time.Time  `json:"expires_at"`
	CanMint      bool        `json:"can_mint"`
	MaxRequests  int64       `json:"max_requests,omitempty"`
	SpendUSD     json.Number `json:"spend_usd"`
	Budget       *BudgetView `json:"budget"`
}

// BudgetView is a budget with what is spent and left of it in the current period.
type BudgetView struct {
	LimitUSD     json.Number `json:"limit_usd"`
	Period       string      `json:"period"`
	SpentUSD     json.Number `json:"spent_usd"`
	RemainingUSD json.Number `json:"remaining_usd"`
	// ResetsAt is when the period ends (UTC calendar periods); null for "total".
	ResetsAt *time.Time `json:"resets_at"`
}

// Self returns what the calling key may know about itself at now.
func Self(p *Principal, now time.Time) SelfView {
	s := p.Settings
	v := SelfView{ID: p.ID, Kind: p.Kind, Name: p.Name, Project: p.Project, ParentID: p.ParentID,
		Models: s.Models, Endpoints: s.Endpoints, AllowedIPs: s.AllowedIPs, AllowedHours: s.AllowedHours,
		Limits: s.Limits, ExpiresAt: p.ExpiresAt, CanMint: s.CanMint && p.Kind == KindClient,
		MaxRequests: p.MaxRequests, SpendUSD: "0"}
	if b := s.Budget; b != nil {
		limit, _ := b.LimitNanos()
		v.Budget = &BudgetView{LimitUSD: json.Number(FormatUSD(limit)), Period: b.Period, SpentUSD: "0",
			RemainingUSD: json.Number(FormatUSD(limit)), ResetsAt: PeriodEnd(b.Period, now)}
	}
	return v
}

// PeriodEnd returns the end of the budget period that contains now, in UTC calendar
// terms (days start at midnight, weeks on Monday, months on the 1st), or nil for
// "total", which never resets.
func PeriodEnd(period string, now time.Time) *time.Time {
	d := now.UTC()
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	var end time.Time
	switch period {
	case "day":
		end = day.AddDate(0, 0, 1)
	case "week":
		end = day.AddDate(0, 0, 7-(int(day.Weekday())+6)%7)
	case "month":
		end = time.Date(d.Year(), d.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	default:
		return nil
	}
	return &end
}
