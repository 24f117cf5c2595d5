//go:build !noazurekeyvault

package vault

import _ "gocloud.dev/secrets/azurekeyvault" // Registers azurekeyvault://.

// init records that this build has the Azure driver; the tag noazurekeyvault leaves it out.
func init() { cloudKMS["azurekeyvault"] = true }
