// Package zxcvbn holds copies of two packages of github.com/ccojocar/zxcvbn-go
// whose tables are built on first use instead of at start (see README.md).
package zxcvbn
