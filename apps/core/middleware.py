from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class PortalLocaleMiddleware(LocaleMiddleware):
    """Pages take their language from the URL (/… Chinese, /en/… English); the API, which has no language
    prefix, follows the client's Accept-Language header (Chinese when absent)."""

    def process_request(self, request):
        if request.path_info.startswith("/api/"):
            language = translation.get_language_from_request(request, check_path=False)
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
            return None
        return super().process_request(request)

    def process_response(self, request, response):
        if request.path_info.startswith("/api/"):
            response.headers.setdefault("Content-Language", translation.get_language())
            return response
        return super().process_response(request, response)
