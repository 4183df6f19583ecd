// Package vcardtest generates vCard files for tests and benchmarks of
// graph/vcard and of the import commands built on it.
//
// [Generate] is deterministic and safe for concurrent use.
package vcardtest
