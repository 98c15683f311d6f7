//go:build !linux

package helper

import "errors"

func reap(spec Spec, argv []string) error {
	return errors.New("the reaper helper needs Linux")
}

func sandbox(spec Spec, argv []string) error {
	return errors.New("the sandbox helper needs Linux")
}
