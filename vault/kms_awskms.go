//go:build !noawskms

package vault

import _ "gocloud.dev/secrets/awskms" // Registers awskms://.

// init records that this build has the AWS driver; the tag noawskms leaves it out.
func init() { cloudKMS["awskms"] = true }
