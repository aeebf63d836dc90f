package tui

import (
	"fmt"
	"os"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

func TestPreview(t *testing.T) {
	if os.Getenv("PREVIEW") == "" {
		t.Skip()
	}
	d := newFakeDriver()
	m, err := New(d, Options{Scenario: "slow-client", Now: func() time.Time { return epoch }})
	if err != nil {
		t.Fatal(err)
	}
	d.push(slowClientFrames(80)...)
	m.Update(tickMsg{})
	for _, sz := range [][2]int{{80, 24}, {200, 60}, {120, 40}} {
		m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		fmt.Println(m.View())
		fmt.Println("=====")
	}
}
