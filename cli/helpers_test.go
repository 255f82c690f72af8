package cli_test

import "github.com/offboard/offboard/emulators/emu"

func emuFault(path string, status int) emu.Fault { return emu.Fault{Path: path, Status: status} }
