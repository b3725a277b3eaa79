"""The tutorial's sample use case: customise the tokens issued by the token exchange.

Runs for every grant; acts only when the protocol is ``token_exchange``. Custom claims
are namespaced (a URL), so they never collide with standard OpenID Connect claims.
"""

NAMESPACE = "https://obo.example.com/"


def rule(user, context):
    if context.protocol != "token_exchange":
        return
    # Who asked for this token on the user's behalf, visible to the Target API.
    context.access_token[NAMESPACE + "exchanged_by"] = context.client_id
    context.access_token[NAMESPACE + "source_api"] = context.subject_audience
    # And to the Source API, in the ID token it gets when it asks for openid.
    context.id_token[NAMESPACE + "email"] = user["email"]
