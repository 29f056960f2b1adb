"""Which language a request is answered in. Pages speak Bahasa Indonesia (LANGUAGE_CODE)
whatever the browser's Accept-Language says — a command centre's PCs and a field officer's
phone are often set to English — and English only when the user chose it with the language
switcher (Django's set_language, remembered in its cookie). The API follows Accept-Language,
as machines expect."""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation

API_PREFIX = "/api/"


def chosen_language(request) -> str:
    """The language the user chose with the switcher, else the console's default."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen:
        try:
            return translation.get_supported_language_variant(chosen)
        except LookupError:
            pass  # an old or forged cookie: the default
    return settings.LANGUAGE_CODE


class LocaleMiddleware(DjangoLocaleMiddleware):
    def process_request(self, request):
        if request.path_info.startswith(API_PREFIX):
            return super().process_request(request)
        language = chosen_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        return None
