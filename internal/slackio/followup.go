package slackio

type logger interface {
	Info(string, ...any)
	Warn(string, ...any)
	Error(string, ...any)
}
