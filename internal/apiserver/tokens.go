package apiserver

import (
	"context"
	"crypto"

	"github.com/tugcluster/tug/internal/apiserver/filters"
	"github.com/tugcluster/tug/internal/auth/serviceaccount"
)

// tokenAuthenticator knows the bearer tokens cfg configures: the join
// token (node agents) and service-account tokens signed by
// cfg.ServiceAccountKey, looked up in objects.
func tokenAuthenticator(cfg Config, objects serviceaccount.Getter) (filters.TokenAuthenticator, error) {
	var joinToken, saTokens filters.TokenAuthenticator
	if cfg.JoinToken != "" {
		joinToken = filters.JoinToken(cfg.JoinToken)
	}
	if cfg.ServiceAccountKey != nil {
		auth, err := serviceaccount.NewAuthenticator(serviceaccount.AuthenticatorOptions{
			Keys:   []crypto.PublicKey{cfg.ServiceAccountKey.Public()},
			Issuer: cfg.ServiceAccountIssuer,
			Getter: objects,
		})
		if err != nil {
			return nil, err
		}
		saTokens = func(ctx context.Context, token string) (filters.User, bool, error) {
			u, ok, err := auth.Authenticate(ctx, token)
			if !ok {
				return filters.User{}, false, err
			}
			return filters.User{Name: u.Name, UID: u.UID, Groups: u.Groups, Extra: u.Extra}, true, nil
		}
	}
	return filters.Tokens(joinToken, saTokens), nil
}
