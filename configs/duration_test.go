package configs

import (
	"encoding/json"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestDurationYAML(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "30s", want: 30 * time.Second},
		{in: "1m30s", want: 90 * time.Second},
		{in: "250ms", want: 250 * time.Millisecond},
		{in: "0", want: 0},
		{in: `"2h"`, want: 2 * time.Hour},
		{in: "30", wantErr: true},
		{in: "thirty seconds", wantErr: true},
		{in: "[1s]", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var v struct {
				D Duration `yaml:"d"`
			}
			err := yaml.Unmarshal([]byte("d: "+tt.in), &v)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %v, want error", v.D)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.D.Std() != tt.want {
				t.Errorf("got %v, want %v", v.D, tt.want)
			}
		})
	}
}

func TestDurationJSONRoundTrip(t *testing.T) {
	in := Duration(90 * time.Second)
	b, err := json.Marshal(in)
	if err != nil || string(b) != `"1m30s"` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var out Duration
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("Unmarshal = %v, %v", out, err)
	}
	if err := json.Unmarshal([]byte("30"), &out); err == nil {
		t.Error("bare JSON number accepted")
	}
}
