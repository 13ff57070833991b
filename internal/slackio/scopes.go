package slackio

// MethodScopes is every Web API method the bot calls, with the bot-token
// scopes Slack requires for it. deploy/slack-app-manifest.yaml must grant
// them all; a test checks the manifest against this table, and the
// end-to-end suite checks that the bot calls no method missing from it.
var MethodScopes = map[string][]string{
	"auth.test":             nil,
	"apps.connections.open": nil, // app-level token with connections:write
	"chat.postEphemeral":    {"chat:write"},
	"chat.postMessage":      {"chat:write"},
	"chat.getPermalink":     nil,
	"conversations.open":    {"im:write"},
	// Looking up a delivery whose outcome is unknown, in the agent's DM or
	// the triage channel (a private channel).
	"conversations.history": {"im:history", "groups:history", "channels:history"},
	// Which thread a 👀 or ✅ on a reply belongs to (a reaction names only
	// the message).
	"conversations.replies": {"channels:history", "groups:history"},
	"usergroups.users.list": {"usergroups:read"},
	"views.publish":         nil,
	"users.info":            {"users:read"},
	// The leads' weekly chart: a PNG uploaded to their DM.
	"files.getUploadURLExternal":   {"files:write"},
	"files.completeUploadExternal": {"files:write"},
}

// EventSubscriptions is every Events API subscription the bot routes, with
// the scope each needs.
var EventSubscriptions = map[string][]string{
	"message.channels": {"channels:history"},
	"message.groups":   {"groups:history"},
	"reaction_added":   {"reactions:read"},
	"app_home_opened":  nil,
}

// CommandScopes: the /empathy slash command and its buttons.
var CommandScopes = []string{"commands"}
