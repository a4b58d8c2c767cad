package apiserver

import (
	"context"
	"crypto"

	"github.com/tugcluster/tug/internal/apiserver/filters"
	"github.com/tugcluster/tug/internal/auth/serviceaccount"
)

// tokenReviewer authenticates a TokenReview's token for audiences (the API
// server's when none are given) and returns the user and those of the
// audiences the token is valid for. ok false with a nil error: no
// authenticator knows the token.
type tokenReviewer func(ctx context.Context, token string, audiences []string) (u filters.User, valid []string, ok bool, err error)

// tokenAuthenticators knows the bearer tokens cfg configures: the join
// token (node agents) and service-account tokens signed by
// cfg.ServiceAccountKey, looked up in objects. It returns the request
// authenticator and the TokenReview one.
func tokenAuthenticators(cfg Config, objects serviceaccount.Getter) (filters.TokenAuthenticator, tokenReviewer, error) {
	var joinToken filters.TokenAuthenticator
	if cfg.JoinToken != "" {
		joinToken = filters.JoinToken(cfg.JoinToken)
	}
	apiAudiences := []string{cfg.ServiceAccountIssuer}
	if cfg.ServiceAccountIssuer == "" {
		apiAudiences = []string{serviceaccount.DefaultIssuer}
	}
	var sa *serviceaccount.Authenticator
	if cfg.ServiceAccountKey != nil {
		var err error
		sa, err = serviceaccount.NewAuthenticator(serviceaccount.AuthenticatorOptions{
			Keys:   []crypto.PublicKey{cfg.ServiceAccountKey.Public()},
			Issuer: cfg.ServiceAccountIssuer,
			Getter: objects,
		})
		if err != nil {
			return nil, nil, err
		}
		apiAudiences = sa.APIAudiences()
	}
	saFor := func(ctx context.Context, token string, audiences []string) (filters.User, []string, bool, error) {
		if sa == nil {
			return filters.User{}, nil, false, nil
		}
		u, valid, ok, err := sa.AuthenticateFor(ctx, token, audiences)
		if !ok {
			return filters.User{}, nil, false, err
		}
		return filters.User{Name: u.Name, UID: u.UID, Groups: u.Groups, Extra: u.Extra}, valid, true, nil
	}
	saTokens := func(ctx context.Context, token string) (filters.User, bool, error) {
		u, _, ok, err := saFor(ctx, token, apiAudiences)
		return u, ok, err
	}
	review := func(ctx context.Context, token string, audiences []string) (filters.User, []string, bool, error) {
		if len(audiences) == 0 {
			audiences = apiAudiences
		}
		if u, valid, ok, err := saFor(ctx, token, audiences); ok || err != nil {
			return u, valid, ok, err
		}
		if joinToken == nil {
			return filters.User{}, nil, false, nil
		}
		// The join token names no audience: it is good for the API
		// server's, as upstream treats audience-agnostic tokens.
		u, ok, err := joinToken(ctx, token)
		if !ok {
			return filters.User{}, nil, false, err
		}
		valid, err := serviceaccount.MatchAudiences(audiences, apiAudiences)
		if err != nil {
			return filters.User{}, nil, false, err
		}
		return u, valid, true, nil
	}
	return filters.Tokens(joinToken, saTokens), review, nil
}
