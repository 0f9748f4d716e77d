package config

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// Settings layers pim6d's command-line flags, environment and configuration
// file with viper. For the settings that exist in all three, a flag that was
// given beats the environment, which beats the file, which beats the default:
//
//	flag          environment       file key
//	--config      PIM6D_CONFIG      -
//	--socket      PIM6D_SOCKET      control_socket
//	--log-level   PIM6D_LOG_LEVEL   log_level
type Settings struct {
	v *viper.Viper
}

// NewSettings registers pim6d's flags on fs and binds them and their
// environment variables. Parse fs before calling Load.
func NewSettings(fs *pflag.FlagSet) *Settings {
	fs.String("config", "", "configuration file (YAML); none: the embedded default")
	fs.String("socket", DefaultControlSocket, "control socket path")
	fs.String("log-level", DefaultLogLevel.String(), "log level: debug, info, warn or error")
	v := viper.New()
	for key, b := range map[string]struct{ flag, env string }{
		"config":         {"config", "PIM6D_CONFIG"},
		"control_socket": {"socket", "PIM6D_SOCKET"},
		"log_level":      {"log-level", "PIM6D_LOG_LEVEL"},
	} {
		// Neither call fails for a non-empty key and an existing flag.
		v.BindPFlag(key, fs.Lookup(b.flag))
		v.BindEnv(key, b.env)
	}
	return &Settings{v: v}
}

// ConfigFile returns the configuration file to read ("" for none).
func (s *Settings) ConfigFile() string { return s.v.GetString("config") }

// Load reads the configuration file (see Load) and applies flag and
// environment overrides on top of it.
func (s *Settings) Load(links []string) (*Config, error) {
	cfg, err := Load(s.ConfigFile(), links)
	if err != nil {
		return nil, err
	}
	// The file's values become viper's defaults, so a flag that was given or an
	// environment variable that is set wins, and an unset flag's default does not.
	s.v.SetDefault("log_level", strings.ToLower(cfg.LogLevel.String()))
	s.v.SetDefault("control_socket", cfg.ControlSocket)
	lvl, err := ParseLevel(s.v.GetString("log_level"))
	if err != nil {
		return nil, fmt.Errorf("--log-level or PIM6D_LOG_LEVEL: %w", err)
	}
	cfg.LogLevel = lvl
	if cfg.ControlSocket = s.v.GetString("control_socket"); cfg.ControlSocket == "" {
		return nil, fmt.Errorf("--socket or PIM6D_SOCKET: empty control socket path")
	}
	return cfg, nil
}
