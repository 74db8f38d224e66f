"""The inbound-message webhook of an SMS campaign, in Twilio's format: a request that Twilio
signed with the campaign's auth token (X-Twilio-Signature) is acted on (sms_replies.act_on) and
answered with an empty TwiML response, so that we send no reply text; a bad or missing
signature is answered 403, an unknown or disabled campaign 404. Exempt from CSRF: Twilio's
signature, not a session, authorises it."""
from flask import abort, make_response, request
from twilio.request_validator import SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER
from twilio.twiml.messaging_response import MessagingResponse

from .. import sms_replies
from ..extensions import csrf
from ..public_urls import external_url
from . import bp

MESSAGE_SID_LIMIT = 64  # Twilio's are 34 characters


def _called_url():
    """The full URL Twilio called, as it signed it: the public address of this endpoint (on
    OPTINTEL_PUBLIC_URL when set) with the query it was called with."""
    url = external_url(request.endpoint, **request.view_args)
    query = request.query_string.decode()
    return f"{url}?{query}" if query else url


@bp.post("/sms/<int:campaign_id>/inbound")
@csrf.exempt
def sms_inbound(campaign_id):
    """Act on an inbound SMS of the campaign: STOP, START or nothing."""
    campaign = sms_replies.receiving_campaign(campaign_id) or abort(404)
    if not sms_replies.signed_by_twilio(campaign, _called_url(), request.form,
                                        request.headers.get(SIGNATURE_HEADER),
                                        request.headers.get(SIGNATURE_SETTINGS_HEADER)):
        abort(403, "The request is not signed by Twilio with this campaign's auth token.")
    if not 0 < len(request.form.get("MessageSid", "")) <= MESSAGE_SID_LIMIT or \
            not request.form.get("From"):
        abort(400, "A message needs its MessageSid and From.")
    sms_replies.act_on(campaign, request.form["MessageSid"], request.form["From"],
                       request.form.get("Body", ""))
    return make_response(str(MessagingResponse()), 200, {"Content-Type": "text/xml"})
