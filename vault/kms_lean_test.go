//go:build noawskms && nogcpkms && noazurekeyvault

package vault

import (
	"context"
	"strings"
	"testing"
)

// A lean build refuses a cloud KMS URL at start, saying which driver it lacks, rather
// than failing as if the URL were mistyped.
func TestLeanBuildNamesTheMissingKMSDriver(t *testing.T) {
	for _, scheme := range []string{"awskms", "gcpkms", "azurekeyvault"} {
		url := scheme + "://secret-key-name"
		_, err := OpenKMS(context.Background(), url, func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), "built without") || !strings.Contains(err.Error(), "no"+scheme) {
			t.Fatalf("%s: %v", scheme, err)
		}
		if strings.Contains(err.Error(), "secret-key-name") {
			t.Fatalf("error repeats the URL: %v", err)
		}
	}
}
