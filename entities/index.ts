import { Controller } from './controller'
import { HistoryEntry, HistorySalt } from './history'
import { Redaction } from './redaction'
import { Workspace } from './workspace'
import { RegisterVersion } from './register-version'
import { HistoryCheckpoint } from './history-checkpoint'
import { RegisterVersionFile } from './register-version-file'
import { Processor, ProcessorSubProcessor } from './processor'
import {
  DataCategory, DataSubjectCategory, LegalBasis, Purpose, Recipient, RetentionRule, SecurityMeasure,
} from './catalogue'
import {
  ActivityDataCategory, ActivityDataSubjectCategory, ActivityJointController, ActivityOnBehalfOfController,
  ActivityProcessor, ActivityPurpose, ActivityPurposeLegalBasis, ActivityRecipient, ActivityRetention,
  ActivityRetentionDataCategory, ActivitySecurityMeasure, ActivityTransfer, ProcessingActivity,
} from './processing-activity'

export * from './controller'
export * from './processor'
export * from './catalogue'
export * from './processing-activity'
export * from './history'
export * from './workspace'
export * from './register-version'
export * from './history-checkpoint'
export * from './register-version-file'
export * from './redaction'

export const entities = [
  Controller, Processor, ProcessorSubProcessor, Purpose, LegalBasis, DataSubjectCategory, DataCategory,
  Recipient, RetentionRule, SecurityMeasure, ProcessingActivity, ActivityJointController,
  ActivityOnBehalfOfController, ActivityPurpose, ActivityPurposeLegalBasis, ActivityDataSubjectCategory,
  ActivityDataCategory, ActivityRecipient, ActivityProcessor, ActivityTransfer, ActivityRetention,
  ActivityRetentionDataCategory, ActivitySecurityMeasure, HistoryEntry, Workspace, RegisterVersion, HistoryCheckpoint,
  RegisterVersionFile, HistorySalt, Redaction,
]
