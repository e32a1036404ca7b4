-- AlterTable
ALTER TABLE "DeniedToken" ADD COLUMN "issuedBefore" DATETIME;
