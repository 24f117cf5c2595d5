//go:build !noawskms

package vault

import (
	"context"
	"strings"
	"testing"
)

// The default build has the cloud drivers: an awskms:// URL opens (the SDK calls AWS
// only at the first Wrap), instead of being refused as a missing driver.
func TestDefaultBuildOpensAWSKMSURL(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	kek, err := OpenKMS(context.Background(), "awskms://alias/tollgate?region=us-east-1", nil)
	if err != nil {
		if strings.Contains(err.Error(), "built without") {
			t.Fatal(err)
		}
		t.Skipf("the AWS SDK could not set up here: %v", err)
	}
	kek.Close()
}
