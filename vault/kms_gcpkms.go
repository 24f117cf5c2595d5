//go:build !nogcpkms

package vault

import _ "gocloud.dev/secrets/gcpkms" // Registers gcpkms://.

// init records that this build has the GCP driver; the tag nogcpkms leaves it out.
func init() { cloudKMS["gcpkms"] = true }
