"""Worker API: POST /api/v1/runs and /runs/batch (contract 3.1, 3.2)."""

from rest_framework.response import Response
from rest_framework.views import APIView

from opsconsole.permissions import IngestKey


class RunCreateView(APIView):
    permission_classes = [IngestKey]

    def post(self, request):
        return Response({"detail": "Not implemented yet."}, status=501)


class RunBatchView(APIView):
    permission_classes = [IngestKey]

    def post(self, request):
        return Response({"detail": "Not implemented yet."}, status=501)
