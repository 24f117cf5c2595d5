// Package configs is tollgate's typed configuration: the YAML file, the TOLLGATE_*
// environment overrides and the providers detected from the usual API-key variables.
//
// Load reads the file strictly, applies the environment, fills in defaults and
// validates, in that order:
//
//  1. The file (none when the path is empty) is read as one YAML document. Unknown
//     fields, wrong shapes and unparsable values are errors that name the file, the
//     line and the field path ("providers[0].bsae_url"), with a suggestion when the
//     field looks like a typo. The path comes from the --config flag, else
//     TOLLGATE_CONFIG (ResolvePath); tollgate never looks for a file on its own.
//  2. TOLLGATE_LISTEN, TOLLGATE_DATABASE_URL and TOLLGATE_REDIS_URL replace the file's
//     values when they are set and not empty.
//  3. When no provider is configured, DetectProviders adds one provider per API-key
//     variable that is set (OPENAI_API_KEY, GROQ_API_KEY, ...), with a few well-known
//     models each. Detected models never replace models of the same name in the file.
//  4. SetDefaults fills what is left empty; Validate checks everything and reports
//     every problem at once (errors.Join of *FieldError), each naming where the value
//     came from: the file and line, "environment" or "defaults".
//
// Secrets never appear in config. Provider keys are SecretRef values written as
// "env:NAME" or "file:PATH"; a literal is refused with a message that says how to
// reference it instead and never repeats the value. A password inside database_url or
// redis_url is refused for the same reason when it comes from the file; pass such URLs
// through TOLLGATE_DATABASE_URL / TOLLGATE_REDIS_URL (or PGPASSWORD) instead. Credential
// headers (Authorization, api-key, x-api-key, ...) are refused in provider headers.
// Types that may hold secret-bearing values have String, GoString and LogValue methods
// that print references and redacted URLs only.
//
// Choices where the contract is silent, written down here:
//   - Weights of 0 mean "unset" and become 1, as in the other defaults of this package;
//     take a target out of rotation by removing it.
//   - A target without a model uses the route's name as the upstream model.
//   - Retries defaults to 2 and is a pointer so that 0 (no retries) can be written.
//   - Model.Timeout bounds a whole request to that model (every attempt); 0 means
//     Config.RequestTimeout. Provider.Timeout bounds one upstream attempt; 0 means no
//     per-attempt limit beyond the request's deadline.
//   - Priority: lower numbers are tried first by the "priority" strategy.
//   - Pricing values are decimal strings in USD per million tokens; YAML numbers are
//     kept as written (no float rounding) and parsed by billing.
//   - file: references are relative to the working directory, and a trailing newline
//     in the file is ignored.
//   - OLLAMA_HOST and VLLM_BASE_URL are not detected: OLLAMA_HOST is also the Ollama
//     server's bind address, and neither has model names we could route by default.
package configs
